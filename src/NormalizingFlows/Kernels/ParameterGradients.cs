using System;
using System.Collections.Generic;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>The gradients of a fused coupling's parameters, laid out as <see cref="CouplingWeights{T}"/> holds the values: what
/// <see cref="CouplingKernel{T}.Backward"/> writes, summed over row blocks, returned to autograd as tensors.</summary>
internal sealed class ParameterGradients<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Zero gradients shaped like <paramref name="weights"/>.</summary>
    public ParameterGradients(CouplingWeights<T> weights)
    {
        Weights = new T[weights.Weights.Length][];
        Biases = new T[weights.Biases.Length][];
        for (int l = 0; l < Weights.Length; l++)
        {
            Weights[l] = new T[weights.Weights[l].Length];
            Biases[l] = new T[weights.Biases[l].Length];
        }
        Bounds = new T[weights.Bounds.Length];
    }

    /// <summary>Per linear layer, the weight's gradient <c>[out, in]</c> row by row (networks side by side one after another).</summary>
    public T[][] Weights { get; }

    /// <summary>Per linear layer, the bias's gradient.</summary>
    public T[][] Biases { get; }

    /// <summary>The gradient of the log-bounds (learned bounds only; else empty).</summary>
    public T[] Bounds { get; }

    /// <summary>Adds <paramref name="other"/> into these gradients, element by element.</summary>
    public void Add(ParameterGradients<T> other)
    {
        for (int l = 0; l < Weights.Length; l++)
        {
            TensorPrimitives.Add<T>(Weights[l], other.Weights[l], Weights[l]);
            TensorPrimitives.Add<T>(Biases[l], other.Biases[l], Biases[l]);
        }
        TensorPrimitives.Add<T>(Bounds, other.Bounds, Bounds);
    }

    /// <summary>The autograd node's gradients: none for its call argument, <paramref name="inputGradient"/>,
    /// <paramref name="contextGradient"/> where the plan takes a context (null where not wanted), then the parameters'
    /// (<see cref="ParameterTensors"/>).</summary>
    public List<Tensor> ToTensors(CouplingPlan plan, Tensor? inputGradient, Tensor? contextGradient, ScalarType dtype)
    {
        var result = new List<Tensor> { null!, inputGradient! };
        if (plan.ContextFeatures > 0) result.Add(contextGradient!);
        result.AddRange(ParameterTensors(plan, dtype));
        return result;
    }

    /// <summary>Each layer's weight and bias gradient in the parameters' shapes (<see cref="Shape"/>), then the log-bounds' where
    /// learned: the order of the layer's weights.</summary>
    public List<Tensor> ParameterTensors(CouplingPlan plan, ScalarType dtype)
    {
        int count = 2 * plan.Layers + (plan.LogScale == LogScaleKind.LearnedBound ? 1 : 0);
        var result = new List<Tensor>(count);
        for (int weight = 0; weight < count; weight++) result.Add(ToTensor(plan, weight, dtype));
        return result;
    }

    /// <summary>The gradient of the layer's weight number <paramref name="weight"/> as a tensor of its shape.</summary>
    public Tensor ToTensor(CouplingPlan plan, int weight, ScalarType dtype)
    {
        var tensor = torch.empty(Shape(plan, weight), dtype: dtype);
        Values(plan, weight).CopyTo(TensorMemory.Span<T>(tensor));
        return tensor;
    }

    /// <summary>The gradient of the layer's weight number <paramref name="weight"/> (in the order of its weights: each linear
    /// layer's weight and bias, then the log-bounds), row by row.</summary>
    public T[] Values(CouplingPlan plan, int weight) =>
        weight < 2 * plan.Layers ? (weight % 2 == 0 ? Weights[weight / 2] : Biases[weight / 2]) : Bounds;

    /// <summary>The shape of the layer's weight number <paramref name="weight"/>: a <see cref="Conditioners.ParallelMlp"/>'s
    /// <c>[parts, out, in]</c> and <c>[parts, out]</c>, an <see cref="Conditioners.Mlp"/>'s <c>[out, in]</c> and <c>[out]</c>, the
    /// log-bounds' <c>[moved]</c>.</summary>
    public static long[] Shape(CouplingPlan plan, int weight)
    {
        if (weight >= 2 * plan.Layers) return new long[] { plan.Moved.Length };
        int l = weight / 2;
        if (weight % 2 == 0)
            return plan.Parts > 1 ? new long[] { plan.Parts, plan.Widths[l + 1], plan.Widths[l] } : new long[] { plan.Widths[l + 1], plan.Widths[l] };
        return plan.Parts > 1 ? new long[] { plan.Parts, plan.Widths[l + 1] } : new long[] { plan.Widths[l + 1] };
    }
}
