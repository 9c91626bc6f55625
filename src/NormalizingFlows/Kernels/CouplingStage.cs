using System;
using System.Linq;
using System.Numerics;
using NormalizingFlows.Conditioners;

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
    public static CouplingStage<T> Create(CouplingPlan plan, Conditioner conditioner, IElementwiseTransform transform, bool inverse) =>
        new(plan, FusedCoupling.Read<T>(plan, FusedCoupling.Parameters(plan, conditioner, transform), tiled: true), inverse);

    /// <inheritdoc />
    public override void Run(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work) =>
        CouplingKernel<T>.Run(plan, weights, input.Slice(0, rows * plan.Features), output.Slice(0, rows * plan.Features), logAbsDet.Slice(0, rows), 0,
            work.For(plan, rows), inverse);
}
