using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// What a layer tells the planner about itself (<see cref="IFusableLayer"/>): its kind, widths and where its weight tensors are.
/// Holds no tensor: <see cref="Weights"/> reads the layer's current parameters at each call, so that <c>to(device)</c> and
/// <c>to(dtype)</c>, which replace them, stay safe.
/// </summary>
/// <param name="Weights">The layer's current weight tensors, in the order its kernel reads them.</param>
internal abstract record LayerDescription(Func<Tensor[]> Weights);

/// <summary>A composition: the planner walks its layers (<see cref="Bijectors.Chain"/>).</summary>
/// <param name="Layers">The layers in forward order.</param>
internal sealed record ChainDescription(IReadOnlyList<Bijector> Layers) : LayerDescription(static () => Array.Empty<Tensor>());

/// <summary>A coupling: its mask, its conditioner's network (null when the conditioner does not describe itself) and its
/// transform's map (null when no kernel computes it). Weights: the network's, then the transform's.</summary>
/// <param name="Mask">True for each feature the layer transforms.</param>
/// <param name="Network">The conditioner network.</param>
/// <param name="Transform">The elementwise map.</param>
internal sealed record CouplingDescription(IReadOnlyList<bool> Mask, NetworkDescription? Network, TransformDescription? Transform)
    : LayerDescription(() => Join(Network, Transform))
{
    /// <summary>The network's weights, then the transform's.</summary>
    internal static Tensor[] Join(NetworkDescription? network, TransformDescription? transform)
    {
        var list = new List<Tensor>();
        if (network is not null) list.AddRange(network.Weights());
        if (transform is not null) list.AddRange(transform.Weights());
        return list.ToArray();
    }
}

/// <summary>A masked autoregressive layer (<see cref="Bijectors.MaskedAutoregressive"/>): its MADE network (null where it does not
/// describe itself: residual blocks), the network's units by degree and features by rank, and its transform's map (null when no
/// kernel computes it). The density direction (the inverse) is one pass of the network; the sampling direction one pass per
/// feature, each through the part of the network that feature's parameters depend on. Weights: the network's (masked), then
/// the transform's.</summary>
/// <param name="Features">Features of the event (each one moves).</param>
/// <param name="Network">The MADE network, reading every feature.</param>
/// <param name="Layout">The network's hidden units sorted by degree, how many have degree at most each rank, and the feature of
/// each rank.</param>
/// <param name="Transform">The elementwise map.</param>
internal sealed record AutoregressiveDescription(int Features, NetworkDescription? Network, Conditioners.Made.RankLayout Layout, TransformDescription? Transform)
    : LayerDescription(() => CouplingDescription.Join(Network, Transform));

/// <summary>An LU-factorised linear layer (<see cref="Bijectors.LuLinear"/>). Weights: lower, upper, raw diagonal, bias.</summary>
/// <param name="Features">Features of the event.</param>
/// <param name="Order">The output permutation, or null for none.</param>
/// <param name="Weights">The current lower, upper, raw diagonal and bias.</param>
internal sealed record LuLinearDescription(int Features, IReadOnlyList<long>? Order, Func<Tensor[]> Weights) : LayerDescription(Weights);

/// <summary>A leaky ReLU of learned slope <c>softplus(r) + m</c> (<see cref="Bijectors.LearnableLeakyRelu"/>). Weights: the raw
/// slope <c>r</c>.</summary>
/// <param name="Elements">Values per event.</param>
/// <param name="MinimumSlope">The fixed lower bound <c>m</c>.</param>
/// <param name="Weights">The current raw slope.</param>
internal sealed record LeakyReluDescription(int Elements, double MinimumSlope, Func<Tensor[]> Weights) : LayerDescription(Weights);

/// <summary>A fixed elementwise affine map of the event (<see cref="Bijectors.Standardization"/>): no kernel of its own, but its
/// operations keep nothing wider than the event, so it leaves the evaluation pieces of a fused flow as they are.</summary>
internal sealed record FixedElementwiseDescription() : LayerDescription(static () => Array.Empty<Tensor>());
