using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// How many of libtorch's threads a fit's steps use: one, where every operation of a step is small, else the caller's. On the
/// 2-core machines this library is measured on, a training step of batch 512 through networks 64 wide ran 1.1-2x faster on one
/// thread than on two (seed000 7.5 against 14.5 s per 1000 steps, MAF on 8 features 1.7 against 3.4 s, the fused RealNVP 3.6
/// against 4.1 s; at batch 2048 1.3x; at batch 8192 two threads were 1.04x faster): each operation of a small step is over
/// sooner than a second thread wakes (the library lets idle threads sleep, see <see cref="Runtime.Threads"/>), and even
/// spinning threads (libgomp's default wait) left two threads 1.35x slower than one. The measure of "small" is the largest
/// layer's multiply-adds for the batch: a weight's elements (times the event's spatial size for a convolution) times the rows.
/// The caller's count stays lent to kernels whose step splits into a few large parts (<see cref="Kernels.PartThreads"/>: a whole
/// chain trained as one autograd node), where a second thread wakes once per pass instead of once per operation.
/// </summary>
internal static class StepThreads
{
    /// <summary>Steps whose largest layer needs at most this many multiply-adds run on one thread (2^24: batch 4096 through a
    /// 64 x 64 layer; batch 2048 measured faster on one thread, batch 8192 on two).</summary>
    public const long SingleThreadMultiplyAdds = 1L << 24;

    /// <summary>Uses one thread on the calling thread until the result is disposed, where <paramref name="model"/> trains on the
    /// CPU with more than one thread and its steps of <paramref name="batchRows"/> rows are small (see the class remarks); else
    /// changes nothing.</summary>
    public static IDisposable Enter(Distribution model, long batchRows, bool allowed)
    {
        int threads = torch.get_num_threads();
        if (!allowed || threads <= 1) return Unchanged.Instance;
        var parameters = model.parameters().ToArray();
        if (parameters.Length == 0 || parameters.Any(p => p.device_type != DeviceType.CPU)) return Unchanged.Instance;
        if (LargestLayerMultiplyAdds(model, parameters) * Math.Max(1, batchRows) > SingleThreadMultiplyAdds) return Unchanged.Instance;
        torch.set_num_threads(1);
        return new Restore(threads, Kernels.PartThreads.Lend(threads));
    }

    /// <summary>The largest multiply-add count per row of any one layer: a matrix's (or stacked matrices') elements, a
    /// convolution kernel's elements times the event's spatial size.</summary>
    internal static long LargestLayerMultiplyAdds(Distribution model, Tensor[] parameters)
    {
        var shape = model.EventShape;
        long spatial = 1;
        for (int i = 1; i < shape.Count; i++) spatial *= shape[i];
        long largest = 1;
        foreach (var p in parameters)
        {
            long perRow = p.dim() switch
            {
                2 or 3 => p.numel(),
                4 => p.numel() * spatial,
                _ => 0,
            };
            largest = Math.Max(largest, perRow);
        }
        return largest;
    }

    private sealed class Unchanged : IDisposable
    {
        public static readonly Unchanged Instance = new();

        public void Dispose()
        {
        }
    }

    private sealed class Restore(int threads, IDisposable lent) : IDisposable
    {
        public void Dispose()
        {
            torch.set_num_threads(threads);
            lent.Dispose();
        }
    }
}
