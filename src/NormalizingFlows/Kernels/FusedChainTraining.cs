using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NormalizingFlows.Kernels;

/// <summary>
/// A whole <see cref="Bijectors.Chain"/> with gradients as one autograd node, when every layer trains through a kernel
/// (<see cref="FusionPlan.TrainsAsOne"/>): the forward pass runs every layer's <see cref="TrainingStage{T}"/> keeping what its
/// backward pass reads, the backward pass runs them back in one call. A training step then builds one node instead of one per
/// layer, makes no tensor between layers, and its rows split into parts (at least <see cref="PartRows"/> rows, at most
/// <see cref="MaximumParts"/>) that run the whole chain on their own threads (<see cref="PartThreads"/>), meeting once per pass;
/// the parts' parameter gradients add up in part order, so the result does not depend on the thread count.
/// </summary>
internal static class FusedChainTraining
{
    /// <summary>The fewest rows per part of a call: a part's work for one layer should outweigh waking a thread many times.</summary>
    public const int PartRows = 256;

    /// <summary>The most parts a call's rows split into.</summary>
    public const int MaximumParts = 16;

    [ThreadStatic] private static int directGradients;
    [ThreadStatic] private static IReadOnlyDictionary<Tensor, NativeSpan>? gradientBuffers;

    /// <summary>
    /// Until the result is disposed, on the calling thread, a chain node made here adds the gradient of each weight that has a
    /// buffer in <see cref="GradientBuffers"/> straight into that buffer in its backward pass, as autograd's accumulation would
    /// (the same sum, so the same bits), instead of handing it to autograd as a tensor: a training step of a deep chain
    /// otherwise makes and accumulates one tensor per parameter (160 for the first tutorial's flow). Only for a loss whose one
    /// backward pass follows with those buffers in place: a fit's own negative log-likelihood (<see cref="Training.Fit"/>).
    /// Other weights (a masked autoregressive layer's masked products) and the input stay autograd's; where no input of the node
    /// would require a gradient, the first weight does too.
    /// </summary>
    internal static IDisposable DirectGradients()
    {
        directGradients++;
        return new Leave(() => directGradients--);
    }

    /// <summary>Until the result is disposed, on the calling thread, <paramref name="buffers"/> are the gradient buffers of the
    /// parameters being trained (each parameter object to its buffer's elements, contiguous, of its dtype, on the CPU): the
    /// training loop's optimizer owns them for the whole fit. Used only within <see cref="DirectGradients"/>.</summary>
    internal static IDisposable GradientBuffers(IReadOnlyDictionary<Tensor, NativeSpan> buffers)
    {
        var before = gradientBuffers;
        gradientBuffers = buffers;
        return new Leave(() => gradientBuffers = before);
    }

    /// <summary>The chain's output and log-det as one autograd node, or null where its plan does not train it so in this
    /// direction, autograd does not track the call, the batch is larger than <see cref="FusedCoupling.TrainingBlockRows"/> (each
    /// layer's kept work would leave the caches; the layers' own nodes recompute in blocks), or a layer's weights are no longer
    /// where the plan found them.</summary>
    /// <param name="plan">The chain's plan for this call.</param>
    /// <param name="x">The input, <c>[batch, features]</c>.</param>
    /// <param name="inverse">Whether to run the layers' inverses, last layer first.</param>
    public static (Tensor Output, Tensor LogAbsDet)? TryApply(FusionPlan plan, Tensor x, bool inverse)
    {
        if (!plan.TrainsAsOne(inverse) || x.dim() != 2 || !TensorMemory.IsReadable(x)) return null;
        long rows = x.size(0);
        if (rows == 0 || rows > FusedCoupling.TrainingBlockRows) return null;
        var layers = plan.Layers;
        var weights = new Tensor[layers.Count][];
        for (int i = 0; i < layers.Count; i++)
            if ((weights[i] = FusedLayers.Current(layers[i], x.dtype)!) is null) return null;
        if (!x.requires_grad && !weights.Any(w => w.Any(p => p.requires_grad))) return null;
        var targets = directGradients > 0 && gradientBuffers is { } buffers ? DirectTargets(weights, x, buffers) : null;
        var call = new Call(layers, inverse, x.requires_grad, weights, targets);
        var args = new List<object>(2 + weights.Sum(w => w.Length)) { call, x };
        for (int i = 0; i < weights.Length; i++)
            for (int j = 0; j < weights[i].Length; j++)
                if (targets?[i][j] is null) args.Add(weights[i][j]);
        var outputs = ChainFunction.apply(args.ToArray());
        return (outputs[0], outputs[1]);
    }

    /// <summary>Per weight, where its gradient goes straight (<see cref="DirectGradients"/>): its buffer in
    /// <paramref name="buffers"/> (a parameter being trained, of the input's dtype), else null (autograd's).</summary>
    private static NativeSpan?[][] DirectTargets(Tensor[][] weights, Tensor x, IReadOnlyDictionary<Tensor, NativeSpan> buffers)
    {
        var targets = new NativeSpan?[weights.Length][];
        (int Layer, int Weight) first = (-1, -1);
        bool anyInput = x.requires_grad;
        for (int i = 0; i < weights.Length; i++)
        {
            targets[i] = new NativeSpan?[weights[i].Length];
            for (int j = 0; j < weights[i].Length; j++)
            {
                if (buffers.TryGetValue(weights[i][j], out var buffer) && weights[i][j].dtype == x.dtype)
                {
                    targets[i][j] = buffer;
                    if (first.Layer < 0) first = (i, j);
                }
                else anyInput |= weights[i][j].requires_grad;
            }
        }
        // The node needs an input that requires a gradient, or autograd leaves it out of the graph.
        if (!anyInput && first.Layer >= 0) targets[first.Layer][first.Weight] = null;
        return targets;
    }

    /// <summary>The parts <paramref name="rows"/> rows split into.</summary>
    internal static int Parts(int rows) => Math.Clamp(rows / PartRows, 1, MaximumParts);

    /// <summary>What a call of the node needs besides its tensors: the layers' plans in forward order, the direction, whether the
    /// input's gradient is wanted, every layer's weights (the node's inputs after <c>x</c> are those without a target, layer by
    /// layer), and per weight where its gradient goes straight (<see cref="DirectGradients"/>; null: every gradient to autograd).</summary>
    internal sealed record Call(IReadOnlyList<LayerPlan> Layers, bool Inverse, bool InputGradient, Tensor[][] Weights, NativeSpan?[][]? Targets);

    /// <summary>Where a tensor's elements live (the tensor or its owner kept alive by the caller while they are used), read on the
    /// calling thread; empty for none.</summary>
    internal readonly unsafe record struct NativeSpan(IntPtr Address, int Length)
    {
        public static NativeSpan Of<T>(Tensor? tensor) where T : unmanaged
        {
            if (tensor is null) return default;
            var span = TensorMemory.Span<T>(tensor);
            fixed (T* address = span) return new NativeSpan((IntPtr)address, span.Length);
        }

        /// <summary><see cref="Of{T}"/> in the tensor's own element type (float or double).</summary>
        public static NativeSpan Of(Tensor tensor) => tensor.dtype == ScalarType.Float32 ? Of<float>(tensor) : Of<double>(tensor);

        public Span<T> As<T>() where T : unmanaged => Length == 0 ? Span<T>.Empty : new Span<T>((void*)Address, Length);
    }

    private sealed class Leave(Action leave) : IDisposable
    {
        private bool left;

        public void Dispose()
        {
            if (left) return;
            left = true;
            leave();
        }
    }
}

/// <summary>The fused chain as one autograd node: inputs <c>(call, x, the layers' weights in forward order, but those whose gradient
/// goes straight to its buffer)</c>, outputs
/// <c>(y, logAbsDet)</c> (<see cref="FusedChainTraining"/>).</summary>
internal sealed class ChainFunction : MultiTensorFunction<ChainFunction>
{
    private const string StateKey = "chain";

    /// <inheritdoc />
    public override string Name => "FusedChain";

    /// <inheritdoc />
    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var call = (FusedChainTraining.Call)vars[0];
        var x = ((Tensor)vars[1]).contiguous();
        var weights = call.Weights;
        ctx.set_materialize_grads(false);
        // The input, for a second backward pass through a retained graph (the first takes the forward pass's work).
        ctx.save_for_backward(new List<Tensor> { x });
        var y = torch.empty_like(x);
        var ld = torch.empty(x.size(0), dtype: x.dtype);
        ctx.save_data(StateKey, x.dtype == ScalarType.Float32
            ? ChainPass<float>.Forward(call, weights, x, y, ld)
            : ChainPass<double>.Forward(call, weights, x, y, ld));
        return new List<Tensor> { y, ld };
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grad_outputs)
    {
        var x = ctx.get_saved_variables()[0];
        var outputGradient = TensorMemory.Gradient(grad_outputs[0]);
        var logDetGradient = TensorMemory.Gradient(grad_outputs[1]);
        return ctx.get_data(StateKey) switch
        {
            ChainPass<float> single => single.Backward(x, outputGradient, logDetGradient),
            var state => ((ChainPass<double>)state).Backward(x, outputGradient, logDetGradient),
        };
    }

}

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

    /// <summary>The node's gradients: none for the call, the input's (null where not wanted), then every layer's weights' in
    /// forward order.</summary>
    public List<Tensor> Backward(Tensor x, Tensor? outputGradient, Tensor? logDetGradient)
    {
        // A second backward pass through a retained graph runs the forward pass again from the saved input.
        var parts = Interlocked.Exchange(ref kept, null) ?? Recompute(x);
        Tensor? inputGradient = call.InputGradient ? torch.empty(rows, features, dtype: x.dtype) : null;
        var gradients = new StageGradients<T>[parts.Length][];
        try
        {
            var (above, logDet, below) = (FusedChainTraining.NativeSpan.Of<T>(outputGradient), FusedChainTraining.NativeSpan.Of<T>(logDetGradient), FusedChainTraining.NativeSpan.Of<T>(inputGradient));
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
            var (input, output, logAbsDet) = (FusedChainTraining.NativeSpan.Of<T>(x), FusedChainTraining.NativeSpan.Of<T>(y), FusedChainTraining.NativeSpan.Of<T>(ld));
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
