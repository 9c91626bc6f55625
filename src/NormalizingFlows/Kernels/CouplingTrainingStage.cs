using System;
using System.Collections.Generic;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NormalizingFlows.Kernels;

/// <summary>A fused coupling (or a masked autoregressive layer's density pass) as a <see cref="TrainingStage{T}"/>: the forward
/// pass keeps its work (pooled; every layer's input where the network runs as register tiles) for the backward pass of
/// <see cref="CouplingKernel{T}"/>.</summary>
internal sealed class CouplingTrainingStage<T>(CouplingPlan plan, CouplingWeights<T> weights, bool inverse) : TrainingStage<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc />
    public override IDisposable? Forward(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows)
    {
        var work = new CouplingWork<T>(plan, rows, pooled: true, keepsNetworks: plan.Tiled);
        try
        {
            CouplingKernel<T>.Run(plan, weights, input.Slice(0, rows * plan.Features), ReadOnlySpan<T>.Empty, output.Slice(0, rows * plan.Features),
                logAbsDet.Slice(0, rows), 0, work, inverse);
            return work;
        }
        catch
        {
            work.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override void Backward(IDisposable? kept, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logAbsDetGradient,
        Span<T> inputGradient, StageGradients<T> gradients)
    {
        var sums = ((Gradients)gradients).Sums;
        CouplingKernel<T>.Backward(plan, weights, (CouplingWork<T>)kept!, inverse, outputGradient, logAbsDetGradient, inputGradient, Span<T>.Empty,
            sums.Weights, sums.Biases, sums.Bounds);
    }

    /// <inheritdoc />
    public override StageGradients<T> NewGradients() => new Gradients(plan, new ParameterGradients<T>(weights));

    private sealed class Gradients(CouplingPlan plan, ParameterGradients<T> sums) : StageGradients<T>
    {
        public ParameterGradients<T> Sums { get; } = sums;

        public override void Add(StageGradients<T> other) => Sums.Add(((Gradients)other).Sums);

        public override Tensor ToTensor(int weight) => Sums.ToTensor(plan, weight, TensorMemory.TypeOf<T>());

        public override void AddTo(int weight, Span<T> target) => TensorPrimitives.Add(target, Sums.Values(plan, weight), target);
    }
}
