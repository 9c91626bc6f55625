using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using NormalizingFlows.Conditioners;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// The sampling direction (forward map) of a masked autoregressive layer as a <see cref="RowStage{T}"/>: the rows are copied to
/// the output, then its rank plans (<see cref="FusionPlanner.AutoregressiveRanks"/>) run one after another in place on them
/// through <see cref="CouplingKernel{T}"/>, each computing one feature from the features already final, with the weights of
/// its part of the network cut out of the MADE's masked weights once per call. A block of rows stays in the cache through all
/// the ranks, and no tensor is made between them.
/// </summary>
internal sealed class AutoregressiveStage<T> : RowStage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly CouplingPlan[] ranks;
    private readonly CouplingWeights<T>[] weights;
    private readonly CouplingPlan work;
    private readonly int features;

    private AutoregressiveStage(CouplingPlan[] ranks, CouplingWeights<T>[] weights)
    {
        this.ranks = ranks;
        this.weights = weights;
        features = ranks[0].Features;
        work = WorkPlan(ranks);
    }

    /// <summary>The stage of a layer whose density pass has plan <paramref name="density"/> and whose ranks have these plans and
    /// this layout, from its current parameters (CPU tensors of element type <typeparamref name="T"/>): every layer's masked
    /// weight <c>[out, in]</c> and bias, input first, then the transform's learned log-bounds where it has them.</summary>
    public static AutoregressiveStage<T> Create(CouplingPlan density, IReadOnlyList<CouplingPlan> ranks, Made.RankLayout layout, Tensor[] parameters)
    {
        var whole = FusedCoupling.Values<T>(density, parameters);
        var cut = new CouplingWeights<T>[ranks.Count];
        for (int k = 0; k < ranks.Count; k++) cut[k] = TiledNetwork<T>.Packed(ranks[k], Cut(ranks[k], k, layout, whole));
        return new AutoregressiveStage<T>(ranks.ToArray(), cut);
    }

    /// <inheritdoc />
    public override void Run(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> scratch) =>
        Run(input, ReadOnlySpan<T>.Empty, output, logAbsDet, rows, scratch);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<T> input, ReadOnlySpan<T> context, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> scratch)
    {
        var y = output.Slice(0, rows * features);
        input.Slice(0, rows * features).CopyTo(y);
        var total = logAbsDet.Slice(0, rows);
        var shared = scratch.For(work, rows);
        var step = CouplingWork<T>.Rent(rows);
        try
        {
            for (int k = 0; k < ranks.Length; k++)
            {
                CouplingKernel<T>.Run(ranks[k], weights[k], y, context, y, k == 0 ? total : step.AsSpan(0, rows), 0, shared, inverse: false);
                if (k > 0) FusedChain.Accumulate(total, step.AsSpan(0, rows));
            }
        }
        finally
        {
            CouplingWork<T>.Return(step);
        }
    }

    /// <summary>
    /// The weights of rank <paramref name="k"/>'s part of the network (<paramref name="plan"/>'s widths): the first layer's rows
    /// for the units of lowest degree and its columns for the features of rank below <paramref name="k"/> (then the context),
    /// each further layer's rows and columns for the units of lowest degree of its own and the previous layer, the output
    /// layer's two rows of the feature of rank <paramref name="k"/>; a rank with no input keeps only the output layer's bias.
    /// </summary>
    private static CouplingWeights<T> Cut(CouplingPlan plan, int k, Made.RankLayout layout, CouplingWeights<T> whole)
    {
        T[][] w = whole.Weights, b = whole.Biases;
        int layers = w.Length, last = layers - 1, feature = plan.Moved[0];
        int fullInputs = w[0].Length / b[0].Length;
        long[] Rows(int l, int count) => l == last ? new long[] { 2 * feature, 2 * feature + 1 } : layout.UnitOrder[l].Take(count).ToArray();
        var weights = new T[plan.Layers][];
        var biases = new T[plan.Layers][];
        if (plan.Layers == 1)
        {
            weights[0] = Array.Empty<T>();
            biases[0] = new[] { b[last][2 * feature], b[last][2 * feature + 1] };
        }
        else
        {
            for (int l = 0; l < layers; l++)
            {
                var rows = Rows(l, plan.Widths[l + 1]);
                long[] columns = l == 0
                    ? layout.FeatureAtRank.Take(k).Concat(Enumerable.Range(plan.Features, plan.ContextFeatures).Select(c => (long)c)).ToArray()
                    : layout.UnitOrder[l - 1].Take(plan.Widths[l]).ToArray();
                int inWidth = l == 0 ? fullInputs : layout.UnitOrder[l - 1].Length;
                var cut = new T[rows.Length * columns.Length];
                for (int r = 0; r < rows.Length; r++)
                    for (int c = 0; c < columns.Length; c++) cut[r * columns.Length + c] = w[l][rows[r] * inWidth + columns[c]];
                weights[l] = cut;
                biases[l] = rows.Select(r => b[l][r]).ToArray();
            }
        }
        var bound = whole.Bounds.Length == 0 ? Array.Empty<T>() : new[] { whole.Bounds[feature] };
        return new CouplingWeights<T>(weights, biases, bound);
    }

    /// <summary>A plan whose work fits every rank's (the widest of their widths at every position, a tile buffer if any rank runs
    /// tiled): one work per thread serves all ranks.</summary>
    private static CouplingPlan WorkPlan(CouplingPlan[] ranks)
    {
        int length = ranks.Max(r => r.Widths.Length);
        var widths = new int[length];
        foreach (var rank in ranks)
            for (int i = 0; i < rank.Widths.Length; i++) widths[i] = Math.Max(widths[i], rank.Widths[i]);
        var first = ranks[0];
        var operations = ranks.Any(r => r.Tiled) ? LayerOperations.Tiles : ranks.Any(r => r.Wide) ? LayerOperations.Blas : LayerOperations.Columns;
        return new CouplingPlan(first.Features, Array.Empty<int>(), first.Moved, widths, 1, first.Activation, first.LogScale, first.Bound, operations,
            ranks.Max(r => r.ContextFeatures), Array.Empty<int>());
    }
}
