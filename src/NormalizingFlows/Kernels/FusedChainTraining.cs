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
    /// <paramref name="buffers"/> (a parameter being trained; every weight already holds the input's dtype, as
    /// <see cref="FusedLayers.Current"/> checked), else null (autograd's).</summary>
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
                if (buffers.TryGetValue(weights[i][j], out var buffer))
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

/// <summary>The fused chain as one autograd node: inputs <c>(call, x, the layers' weights in forward order but those whose gradient
/// goes straight to its buffer)</c>, outputs <c>(y, logAbsDet)</c> (<see cref="FusedChainTraining"/>); each call's passes are a
/// <see cref="ChainPass{T}"/>.</summary>
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
