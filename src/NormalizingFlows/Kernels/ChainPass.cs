using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>One call of <see cref="ChainFunction"/>: the stages in the order they run, and per part of the rows what the forward
/// pass kept (every stage's input and work) until the first backward pass takes it.</summary>
internal sealed class ChainPass<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly FusedChainTraining.Call call;
    private readonly TrainingStage<T>[] stages;
    private readonly int rows, features;
    private Part[]? kept;

    private ChainPass(FusedChainTraining.Call call, TrainingStage<T>[] stages, int rows, int features)
    {
        this.call = call;
        this.stages = stages;
        this.rows = rows;
        this.features = features;
    }

    /// <summary>Runs the chain on <paramref name="x"/> into <paramref name="y"/> and <paramref name="ld"/>, keeping what the
    /// backward pass reads.</summary>
    public static ChainPass<T> Forward(FusedChainTraining.Call call, Tensor[][] weights, Tensor x, Tensor y, Tensor ld)
    {
        int count = call.Layers.Count;
        var stages = new TrainingStage<T>[count];
        for (int s = 0; s < count; s++)
        {
            int layer = call.Inverse ? count - 1 - s : s;
            stages[s] = FusedLayers.TrainingStage<T>(call.Layers[layer], weights[layer], call.Inverse);
        }
        var pass = new ChainPass<T>(call, stages, (int)x.size(0), (int)x.size(1));
        pass.kept = pass.RunForward(x, y, ld);
        return pass;
    }

    /// <summary>The node's gradients: none for the call, the input's (null where not wanted), then in forward order the gradient of
    /// every weight that is an input of the node; the others' are added straight into their buffers
    /// (<see cref="FusedChainTraining.DirectGradients"/>).</summary>
    public List<Tensor> Backward(Tensor x, Tensor? outputGradient, Tensor? logDetGradient)
    {
        // A second backward pass through a retained graph runs the forward pass again from the saved input.
        var parts = Interlocked.Exchange(ref kept, null) ?? Recompute(x);
        Tensor? inputGradient = call.InputGradient ? torch.empty(rows, features, dtype: x.dtype) : null;
        var gradients = new StageGradients<T>[parts.Length][];
        try
        {
            var (above, logDet, below) = (NativeSpan.Of<T>(outputGradient), NativeSpan.Of<T>(logDetGradient), NativeSpan.Of<T>(inputGradient));
            Run(parts.Length, p =>
            {
                gradients[p] = stages.Select(s => s.NewGradients()).ToArray();
                BackwardPart(parts[p], above.As<T>(), logDet.As<T>(), below.As<T>(), gradients[p]);
            });
        }
        finally
        {
            foreach (var part in parts) part.Dispose();
        }
        var result = new List<Tensor> { null!, inputGradient! };
        int count = stages.Length;
        for (int layer = 0; layer < count; layer++)
        {
            int s = call.Inverse ? count - 1 - layer : layer;
            var total = gradients[0][s];
            for (int p = 1; p < parts.Length; p++) total.Add(gradients[p][s]);
            for (int w = 0; w < call.Weights[layer].Length; w++)
            {
                if (call.Targets?[layer][w] is { } target) total.AddTo(w, target.As<T>());
                else result.Add(total.ToTensor(w));
            }
        }
        return result;
    }

    private Part[] Recompute(Tensor x)
    {
        using var y = torch.empty_like(x);
        using var ld = torch.empty(rows, dtype: x.dtype);
        return RunForward(x, y, ld);
    }

    private Part[] RunForward(Tensor x, Tensor y, Tensor ld)
    {
        int count = FusedChainTraining.Parts(rows);
        var parts = new Part[count];
        for (int p = 0; p < count; p++)
        {
            int start = (int)((long)rows * p / count), end = (int)((long)rows * (p + 1) / count);
            parts[p] = new Part(start, end - start, stages.Length, features);
        }
        try
        {
            var (input, output, logAbsDet) = (NativeSpan.Of<T>(x), NativeSpan.Of<T>(y), NativeSpan.Of<T>(ld));
            Run(count, p => ForwardPart(parts[p], input.As<T>(), output.As<T>(), logAbsDet.As<T>()));
        }
        catch
        {
            foreach (var part in parts) part.Dispose();
            throw;
        }
        return parts;
    }

    /// <summary>Runs <paramref name="body"/> for every part: on up to <see cref="PartThreads.Count"/> of libtorch's OpenMP threads,
    /// each taking every <c>team</c>-th part, else one after another.</summary>
    private static void Run(int parts, Action<int> body)
    {
        int threads = OpenMpTeam.Available && !OpenMpTeam.InParallel ? Math.Min(parts, PartThreads.Count) : 1;
        if (threads <= 1)
        {
            for (int p = 0; p < parts; p++) body(p);
            return;
        }
        OpenMpTeam.Run(threads, (thread, team) =>
        {
            for (int p = thread; p < parts; p += team) body(p);
        });
    }

    /// <summary>The part's rows through every stage: each stage's input kept in the part, the last stage's output into
    /// <paramref name="y"/>, the log-dets added in the order the stages run into <paramref name="ld"/>.</summary>
    private void ForwardPart(Part part, ReadOnlySpan<T> x, Span<T> y, Span<T> ld)
    {
        int n = part.Rows, d = features, last = stages.Length - 1;
        x.Slice(part.Start * d, n * d).CopyTo(part.Input(0));
        var total = ld.Slice(part.Start, n);
        var step = CouplingWork<T>.Rent(n);
        try
        {
            for (int s = 0; s <= last; s++)
            {
                var target = s == last ? y.Slice(part.Start * d, n * d) : part.Input(s + 1);
                part.Kept[s] = stages[s].Forward(part.Input(s), target, s == 0 ? total : step.AsSpan(0, n), n);
                if (s > 0) FusedChain.Accumulate(total, step.AsSpan(0, n));
            }
        }
        finally
        {
            CouplingWork<T>.Return(step);
        }
    }

    /// <summary>The part's rows back through every stage, last first: the gradient flows from the output's (empty: zero) through
    /// each stage's input, the log-det's reaches every stage, the input's is written where wanted.</summary>
    private void BackwardPart(Part part, ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logDetGradient, Span<T> inputGradient, StageGradients<T>[] gradients)
    {
        int n = part.Rows, d = features;
        T[] even = CouplingWork<T>.Rent(n * d), odd = CouplingWork<T>.Rent(n * d);
        try
        {
            ReadOnlySpan<T> above = outputGradient.IsEmpty ? ReadOnlySpan<T>.Empty : outputGradient.Slice(part.Start * d, n * d);
            var logDet = logDetGradient.IsEmpty ? ReadOnlySpan<T>.Empty : logDetGradient.Slice(part.Start, n);
            for (int s = stages.Length - 1; s >= 0; s--)
            {
                var below = s > 0 ? (s % 2 == 0 ? even : odd).AsSpan(0, n * d) : inputGradient.IsEmpty ? Span<T>.Empty : inputGradient.Slice(part.Start * d, n * d);
                stages[s].Backward(part.Kept[s], part.Input(s), above, logDet, below, gradients[s]);
                part.Kept[s]?.Dispose();
                part.Kept[s] = null;
                above = below;
            }
        }
        finally
        {
            CouplingWork<T>.Return(even);
            CouplingWork<T>.Return(odd);
        }
    }

    /// <summary>A part's rows <c>[Start, Start + Rows)</c>: every stage's input (pooled) and work.</summary>
    private sealed class Part(int start, int rows, int stages, int features) : IDisposable
    {
        private T[]? inputs = CouplingWork<T>.Rent(stages * rows * features);

        public int Start { get; } = start;
        public int Rows { get; } = rows;
        public IDisposable?[] Kept { get; } = new IDisposable?[stages];

        /// <summary>Stage <paramref name="s"/>'s input rows.</summary>
        public Span<T> Input(int s) => inputs.AsSpan(s * Rows * features, Rows * features);

        public void Dispose()
        {
            for (int s = 0; s < Kept.Length; s++)
            {
                Kept[s]?.Dispose();
                Kept[s] = null;
            }
            if (Interlocked.Exchange(ref inputs, null) is { } rented) CouplingWork<T>.Return(rented);
        }
    }
}
