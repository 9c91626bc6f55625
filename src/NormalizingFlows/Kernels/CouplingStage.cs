using System;
using System.Runtime.CompilerServices;
using System.Numerics;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>A fused coupling (<see cref="CouplingKernel{T}"/>) as a <see cref="RowStage{T}"/>: its weights read once per call.</summary>
internal sealed class CouplingStage<T> : RowStage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly CouplingPlan plan;
    private readonly CouplingWeights<T> weights;
    private readonly bool inverse;

    private CouplingStage(CouplingPlan plan, CouplingWeights<T> weights, bool inverse)
    {
        this.plan = plan;
        this.weights = weights;
        this.inverse = inverse;
    }

    /// <summary>The stage of a coupling with this plan, its parameters (CPU tensors of element type <typeparamref name="T"/>) read
    /// now.</summary>
    public static CouplingStage<T> Create(CouplingPlan plan, Tensor[] weights, bool inverse) => new(plan, FusedCoupling.Read<T>(plan, weights), inverse);

    /// <summary>A stage of this plan with zero weights (and unit bounds), for <see cref="KernelWarmUp"/>.</summary>
    internal static CouplingStage<T> Synthetic(CouplingPlan plan, bool inverse)
    {
        var weights = new T[plan.Layers][];
        var biases = new T[plan.Layers][];
        for (int l = 0; l < plan.Layers; l++)
        {
            weights[l] = new T[plan.Parts * plan.Widths[l + 1] * plan.Widths[l]];
            biases[l] = new T[plan.Parts * plan.Widths[l + 1]];
        }
        var bounds = new T[plan.LogScale == LogScaleKind.LearnedBound ? plan.Moved.Length : 0];
        bounds.AsSpan().Fill(T.One);
        return new CouplingStage<T>(plan, TiledNetwork<T>.Packed(plan, new CouplingWeights<T>(weights, biases, bounds)), inverse);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work) =>
        Run(input, ReadOnlySpan<T>.Empty, output, logAbsDet, rows, work);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<T> input, ReadOnlySpan<T> context, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work) =>
        CouplingKernel<T>.Run(plan, weights, input.Slice(0, rows * plan.Features), context, output.Slice(0, rows * plan.Features), logAbsDet.Slice(0, rows), 0,
            work.For(plan, rows), inverse);
}
