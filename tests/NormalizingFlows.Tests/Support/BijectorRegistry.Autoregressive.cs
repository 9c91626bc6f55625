using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;

namespace NormalizingFlows.Tests.Support;

public static partial class BijectorRegistry
{
    private static readonly int[] MadeHidden = { 16, 16 };
    private static readonly int[] MadeResidualHidden = { 16, 16, 16 };

    private static readonly BijectorCase[] AutoregressiveCases =
    {
        new("maf-affine-natural-order", g => MaskedAutoregressive.WithMade(4, MadeHidden, generator: g), 4),
        new("maf-affine-reversed-order", g => MaskedAutoregressive.WithMade(4, MadeHidden, order: Made.ReversedOrder(4), generator: g), 4),
        new("maf-affine-custom-order", g => MaskedAutoregressive.WithMade(4, MadeHidden, order: new[] { 2, 0, 3, 1 }, activation: Activation.Tanh, generator: g), 4),
        new("maf-affine-residual", g => MaskedAutoregressive.WithMade(4, MadeResidualHidden, residual: true, generator: g), 4),
        new("maf-affine-one-hidden-layer", g => MaskedAutoregressive.WithMade(5, new[] { 12 }, generator: g), 5),
        // Wider than the column kernel (16): the fused density pass on register tiles (ReLU, leaky ReLU) or the BLAS (tanh).
        new("maf-affine-wide-soft-clamp", g => MaskedAutoregressive.WithMade(5, new[] { 64, 64 }, transform: new AffineTransform(ScaleMap.SoftClamp), generator: g), 5),
        new("maf-affine-wide-leaky-context", g => MaskedAutoregressive.WithMade(3, new[] { 40, 24 }, contextFeatures: 2, order: Made.ReversedOrder(3), activation: Activation.LeakyRelu, generator: g), 3, 2),
        new("maf-tanh-bounded-wide", g => MaskedAutoregressive.WithMade(4, new[] { 24, 24 }, transform: new TanhBoundedAffineTransform(4), order: new[] { 1, 3, 0, 2 }, generator: g), 4),
        new("maf-affine-wide-tanh", g => MaskedAutoregressive.WithMade(4, new[] { 48, 48 }, activation: Activation.Tanh, generator: g), 4),
        new("maf-affine-context", g => MaskedAutoregressive.WithMade(3, MadeHidden, contextFeatures: 2, generator: g), 3, 2),
        new("maf-affine-residual-context", g => MaskedAutoregressive.WithMade(3, MadeResidualHidden, contextFeatures: 2, order: Made.ReversedOrder(3), residual: true, generator: g), 3, 2),
        new("maf-affine-one-feature-context", g => MaskedAutoregressive.WithMade(1, MadeHidden, contextFeatures: 2, generator: g), 1, 2),
        new("iaf-affine", g => new Invert(MaskedAutoregressive.WithMade(4, MadeHidden, order: Made.ReversedOrder(4), generator: g)), 4),
        new("iaf-affine-context", g => new Invert(MaskedAutoregressive.WithMade(3, MadeHidden, contextFeatures: 2, generator: g)), 3, 2),
        new("actnorm", _ => new ActNorm(4), 4),
        new("actnorm-data-initialised", g =>
        {
            var layer = new ActNorm(3);
            using var data = torch.randn(new long[] { 64, 3 }, generator: g).mul(3.0).add(2.0);
            layer.Initialize(data);
            return layer;
        }, 3),
        new("maf-chain-with-actnorm", g => new Chain(
            MaskedAutoregressive.WithMade(3, MadeHidden, generator: g),
            MaskedAutoregressive.WithMade(3, MadeHidden, order: Made.ReversedOrder(3), generator: g),
            new ActNorm(3)), 3),
    };
}
