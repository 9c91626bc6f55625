using System;
using System.Collections.Generic;
using System.Numerics;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>A fused LU layer (<see cref="FusedLuLinear"/>) as a <see cref="TrainingStage{T}"/>: the per-row affine map forward;
/// backward, the row sums of <see cref="LuLinearFunction"/> per part and the parameters' gradients from their total.</summary>
internal sealed class LuLinearTrainingStage<T>(LuFactors factors, IReadOnlyList<long>? order, bool inverse) : TrainingStage<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly LuLinearStage<T> map = new(factors);

    /// <inheritdoc />
    public override IDisposable? Forward(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows)
    {
        map.Apply(input, output, logAbsDet, rows);
        return null;
    }

    /// <inheritdoc />
    public override void Backward(IDisposable? kept, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logAbsDetGradient,
        Span<T> inputGradient, StageGradients gradients) =>
        LuLinearFunction.RowGradients(factors, input, outputGradient, logAbsDetGradient, inputGradient, ((Gradients)gradients).Sums);

    /// <inheritdoc />
    public override StageGradients NewGradients() => new Gradients(factors, order, inverse);

    private sealed class Gradients(LuFactors factors, IReadOnlyList<long>? order, bool inverse) : StageGradients
    {
        public LuRowGradients Sums { get; } = new(factors.C.Length);

        public override void Add(StageGradients other) => Sums.Add(((Gradients)other).Sums);

        public override IEnumerable<Tensor> ToTensors(ScalarType dtype) => LuLinearFunction.ParameterTensors(order, inverse, factors, Sums, dtype);
    }
}
