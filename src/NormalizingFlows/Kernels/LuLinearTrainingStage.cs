using System;
using System.Collections.Generic;
using System.Numerics;
using TorchSharp;
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
        Span<T> inputGradient, StageGradients<T> gradients) =>
        LuLinearFunction.RowGradients(factors, input, outputGradient, logAbsDetGradient, inputGradient, ((Gradients)gradients).Sums);

    /// <inheritdoc />
    public override StageGradients<T> NewGradients() => new Gradients(factors, order, inverse);

    private sealed class Gradients(LuFactors factors, IReadOnlyList<long>? order, bool inverse) : StageGradients<T>
    {
        private double[][]? values;

        public LuRowGradients Sums { get; } = new(factors.C.Length);

        public override void Add(StageGradients<T> other) => Sums.Add(((Gradients)other).Sums);

        public override Tensor ToTensor(int weight) =>
            LuLinearFunction.ToTensor(Values()[weight], LuLinearFunction.ParameterShape(factors, weight), TensorMemory.TypeOf<T>());

        public override void AddTo(int weight, Span<T> target)
        {
            var source = Values()[weight];
            for (int i = 0; i < source.Length; i++) target[i] += T.CreateChecked(source[i]);
        }

        /// <summary>The parameters' gradients from the summed rows (all parts added first), made once.</summary>
        private double[][] Values() => values ??= LuLinearFunction.ParameterValues(order, inverse, factors, Sums);
    }
}
