using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// A whole <see cref="Bijectors.Chain"/> without gradients, when every layer has a <see cref="RowStage{T}"/>: the batch is cut
/// into blocks of <see cref="FusedCoupling.BlockRows"/> rows, and each of libtorch's OpenMP threads takes the next block and runs
/// it through every layer before taking another. A block stays in the processor's cache from the first layer to the last, the
/// threads meet once per call instead of once per layer, and no tensor is made between layers. The log-dets add up in the
/// chain's order, as <see cref="Bijectors.Chain"/> adds them, so the result is the layer-by-layer kernels' to the last bit.
/// </summary>
internal static class FusedChain
{
    /// <summary>The chain's output and log-det through the stages, or null where its plan does not run it block by block
    /// (<see cref="FusionPlan.BlockByBlock"/>), the input is too large for the kernels' spans, or a layer's weights are no longer
    /// where the plan found them.</summary>
    /// <param name="plan">The chain's plan for this call.</param>
    /// <param name="x">The input, <c>[batch, features]</c>.</param>
    /// <param name="inverse">Whether to run the layers' inverses, last layer first.</param>
    public static (Tensor Output, Tensor LogAbsDet)? TryApply(FusionPlan plan, Tensor x, bool inverse)
    {
        if (!plan.BlockByBlock || x.dim() != 2 || !TensorMemory.IsReadable(x)) return null;
        return x.dtype == ScalarType.Float32 ? Apply<float>(plan.Layers, x, inverse) : Apply<double>(plan.Layers, x, inverse);
    }

    /// <summary>
    /// A flow's log-density through its bijector's stages and its base's (<see cref="StandardNormalStage{T}"/>) block by block, or
    /// null where the bijector does not run block by block (<see cref="FusionPlan.BlockByBlock"/>, or a single layer with a stage)
    /// or the base has no stage: each block goes from the data through every layer's inverse to the base density without a
    /// batch-sized tensor in between; the log-dets add up in the chain's order and the base density last (the sum the
    /// operations give, <c>base + logdet</c>, to the last bit of the base density).
    /// </summary>
    /// <param name="plan">The bijector's plan for this call.</param>
    /// <param name="x">The data, <c>[batch, features]</c>.</param>
    /// <param name="density">The base's description, or null.</param>
    public static Tensor? TryLogProb(FusionPlan plan, Tensor x, DistributionDescription? density)
    {
        if (density is not StandardNormalDescription normal || x.dim() != 2 || x.size(1) != normal.Features || !TensorMemory.IsReadable(x)) return null;
        bool single = !plan.Composite && plan.Layers is [{ Evaluates: true, TakesContext: false, InverseOnly: false }] && !plan.Key.Gradients;
        if (!plan.BlockByBlock && !single) return null;
        return x.dtype == ScalarType.Float32
            ? LogProb(plan.Layers, x, new StandardNormalStage<float>(normal.Features, normal.LogNormalizer))
            : LogProb(plan.Layers, x, new StandardNormalStage<double>(normal.Features, normal.LogNormalizer));
    }

    private static Tensor? LogProb<T>(IReadOnlyList<LayerPlan> layers, Tensor x, RowStage<T> density) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var stages = new RowStage<T>[layers.Count + 1];
        for (int i = 0; i < layers.Count; i++)
        {
            var stage = FusedLayers.Stage<T>(layers[layers.Count - 1 - i], inverse: true);
            if (stage is null) return null;
            stages[i] = stage;
        }
        stages[^1] = density;
        var input = x.contiguous();
        var logProb = torch.empty(input.size(0), dtype: input.dtype);
        Run(stages, TensorMemory.Span<T>(input), Span<T>.Empty, TensorMemory.Span<T>(logProb), (int)input.size(1));
        return logProb;
    }

    /// <summary>One layer's map through its row stage, block by block on the OpenMP threads (a layer whose own kernel is its
    /// stage), or null where its weights are no longer where the plan found them.</summary>
    public static (Tensor Output, Tensor LogAbsDet)? ApplyLayer(LayerPlan layer, Tensor x, bool inverse, Tensor? context = null) =>
        x.dtype == ScalarType.Float32 ? Apply<float>(new[] { layer }, x, inverse, context) : Apply<double>(new[] { layer }, x, inverse, context);

    private static (Tensor Output, Tensor LogAbsDet)? Apply<T>(IReadOnlyList<LayerPlan> layers, Tensor x, bool inverse, Tensor? context = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var stages = new RowStage<T>[layers.Count];
        for (int i = 0; i < stages.Length; i++)
        {
            var stage = FusedLayers.Stage<T>(layers[inverse ? layers.Count - 1 - i : i], inverse);
            if (stage is null) return null;
            stages[i] = stage;
        }
        var input = x.contiguous();
        var y = torch.empty_like(input);
        var ld = torch.empty(input.size(0), dtype: input.dtype);
        var conditions = context?.contiguous();
        Run(stages, TensorMemory.Span<T>(input), TensorMemory.Span<T>(y), TensorMemory.Span<T>(ld), (int)input.size(1),
            conditions is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(conditions), conditions is null ? 0 : (int)conditions.size(1));
        return (y, ld);
    }

    /// <summary>Runs every row of <paramref name="input"/> through <paramref name="stages"/> in order into
    /// <paramref name="output"/> (empty: the last stage's output is dropped), the summed log-dets into
    /// <paramref name="logAbsDet"/>, on up to <c>torch.get_num_threads()</c> OpenMP threads; each row's context, where there is
    /// one, in <paramref name="context"/> (row-major, <paramref name="contextFeatures"/> wide).</summary>
    internal static unsafe void Run<T>(RowStage<T>[] stages, ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int features,
        ReadOnlySpan<T> context = default, int contextFeatures = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = logAbsDet.Length;
        if (input.Length != rows * features || (output.Length != rows * features && !output.IsEmpty))
            throw new ArgumentException($"Buffers of mismatched sizes: {input.Length} and {output.Length} elements for {rows} rows of {features}.");
        int blocks = (rows + FusedCoupling.BlockRows - 1) / FusedCoupling.BlockRows;
        if (blocks == 0) return;
        int threads = OpenMpTeam.Available ? Math.Min(blocks, torch.get_num_threads()) : 1;
        if (context.Length != rows * contextFeatures)
            throw new ArgumentException($"A context of {context.Length} elements for {rows} rows of {contextFeatures}.", nameof(context));
        fixed (T* from = input, to = output, sums = logAbsDet, conditions = context)
        {
            var call = new Call<T>(stages, (IntPtr)from, (IntPtr)to, (IntPtr)sums, rows, features, blocks) { Context = (IntPtr)conditions, ContextFeatures = contextFeatures };
            if (threads <= 1) RunBlocks(call);
            else OpenMpTeam.Run(threads, (_, _) => RunBlocks(call));
        }
    }

    /// <summary>Takes the call's next block until none is left, and runs it through every stage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunBlocks<T>(Call<T> call) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int f = call.Features, last = call.Stages.Length - 1;
        var input = new ReadOnlySpan<T>((void*)call.Input, call.Rows * f);
        var output = call.Output == IntPtr.Zero ? Span<T>.Empty : new Span<T>((void*)call.Output, call.Rows * f);
        var logAbsDet = new Span<T>((void*)call.LogAbsDet, call.Rows);
        int c = call.ContextFeatures;
        var context = c == 0 ? ReadOnlySpan<T>.Empty : new ReadOnlySpan<T>((void*)call.Context, call.Rows * c);
        int size = Math.Min(call.Rows, FusedCoupling.BlockRows);
        T[] even = CouplingWork<T>.Rent(size * f), odd = CouplingWork<T>.Rent(size * f), step = CouplingWork<T>.Rent(size);
        using var work = new RowStageWork<T>();
        try
        {
            int block;
            while ((block = Interlocked.Increment(ref call.Taken)) < call.Blocks)
            {
                int start = block * FusedCoupling.BlockRows, count = Math.Min(FusedCoupling.BlockRows, call.Rows - start);
                var total = logAbsDet.Slice(start, count);
                ReadOnlySpan<T> source = input.Slice(start * f, count * f);
                for (int s = 0; s <= last; s++)
                {
                    var target = s == last && !output.IsEmpty ? output.Slice(start * f, count * f) : (s % 2 == 0 ? even : odd).AsSpan(0, count * f);
                    var conditions = c == 0 ? ReadOnlySpan<T>.Empty : context.Slice(start * c, count * c);
                    if (s == 0) call.Stages[s].Run(source, conditions, target, total, count, work);
                    else
                    {
                        call.Stages[s].Run(source, conditions, target, step.AsSpan(0, count), count, work);
                        Accumulate(total, step.AsSpan(0, count));
                    }
                    source = target;
                }
            }
        }
        finally
        {
            CouplingWork<T>.Return(even);
            CouplingWork<T>.Return(odd);
            CouplingWork<T>.Return(step);
        }
    }

    /// <summary><c>total += step</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Accumulate<T>(Span<T> total, ReadOnlySpan<T> step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T t = ref MemoryMarshal.GetReference(total);
        ref T s = ref MemoryMarshal.GetReference(step);
        int i = 0, n = total.Length, lanes = Vector<T>.Count;
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - lanes; i += lanes) (Vector.LoadUnsafe(ref t, (nuint)i) + Vector.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref t, i) += Unsafe.Add(ref s, i);
    }

    /// <summary>One call: the stages, where its buffers live (pinned by the caller for the call's duration) and the blocks taken
    /// so far.</summary>
    private sealed class Call<T>(RowStage<T>[] stages, IntPtr input, IntPtr output, IntPtr logAbsDet, int rows, int features, int blocks)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowStage<T>[] Stages { get; } = stages;
        public IntPtr Input { get; } = input;
        public IntPtr Output { get; } = output;
        public IntPtr LogAbsDet { get; } = logAbsDet;
        public int Rows { get; } = rows;
        public int Features { get; } = features;
        public int Blocks { get; } = blocks;

        /// <summary>Where the rows' context lives (zero without one).</summary>
        public IntPtr Context { get; init; }

        /// <summary>The context's width (0 without one).</summary>
        public int ContextFeatures { get; init; }

        /// <summary>The last block index handed out (-1 before the first).</summary>
        public int Taken = -1;
    }
}
