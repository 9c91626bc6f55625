using System;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Inference;

/// <summary>Log-densities of many rows, in chunks, in inference mode, on the model's device, back on the CPU in float64.</summary>
internal static class LogProbs
{
    private const long Chunk = 65_536;

    /// <summary>log q of each row of <paramref name="rows"/> (on the CPU); null when cancelled.</summary>
    public static Tensor? Of(Distribution model, Tensor rows, Device device, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var parts = new System.Collections.Generic.List<Tensor>();
        var dtype = model.parameters().Select(p => p.dtype).FirstOrDefault(ScalarType.Float32);
        for (long start = 0; start < rows.shape[0]; start += Chunk)
        {
            if (cancellationToken.IsCancellationRequested) return null;
            var chunk = rows.narrow(0, start, Math.Min(Chunk, rows.shape[0] - start)).to(dtype).to(device);
            parts.Add(model.LogProb(chunk).to(ScalarType.Float64).cpu());
        }
        return scope.MoveToOuter(torch.cat(parts.ToArray(), 0));
    }
}
