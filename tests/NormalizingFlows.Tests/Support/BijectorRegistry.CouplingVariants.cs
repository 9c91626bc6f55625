using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;

namespace NormalizingFlows.Tests.Support;

public static partial class BijectorRegistry
{
    // A property, not a field: static fields of partial files have no guaranteed initialisation order.
    private static int[] VariantHidden => new[] { 16, 16 };

    /// <summary>Couplings with the additive, sigmoid-scaled, soft-clamped and tanh-bounded transforms, and checkerboard masks.</summary>
    private static readonly BijectorCase[] CouplingVariantCases =
    {
        new("coupling-additive", g => Coupling.WithMlp(Masks.Alternating(4, 1), VariantHidden, transform: AdditiveTransform.Instance, generator: g), 4),
        new("coupling-additive-context", g => Coupling.WithMlp(Masks.Halves(4), VariantHidden, contextFeatures: 2, transform: AdditiveTransform.Instance, generator: g), 4, 2),
        new("coupling-affine-sigmoid-scale", g => Coupling.WithMlp(Masks.Halves(4), VariantHidden, transform: new AffineTransform(ScaleMap.Sigmoid), generator: g), 4),
        new("coupling-affine-soft-clamp", g => Coupling.WithMlp(Masks.Alternating(5, 0), VariantHidden, transform: new AffineTransform(ScaleMap.SoftClamp, bound: 1.5), generator: g), 5),
        new("coupling-affine-checkerboard", g => Coupling.WithMlp(Masks.Checkerboard(3, 3, parity: 1), VariantHidden, generator: g), 9),
        new("coupling-tanh-bounded", g => new Coupling(Masks.Halves(4), new Mlp(2, 4, new[] { 4 }, activation: Activation.Tanh, generator: g),
            new TanhBoundedAffineTransform(2)), 4),
        new("coupling-tanh-bounded-context", g => new Coupling(Masks.Alternating(5, 1), new Mlp(3, 4, VariantHidden, contextFeatures: 2, activation: Activation.Tanh, generator: g),
            new TanhBoundedAffineTransform(2, initialBound: 2.0)), 5, 2),
        new("chain-leaky-relu-tanh-bounded-coupling", g => new Chain(
            new LearnableLeakyRelu(2), new Coupling(Masks.Alternating(2, 1), new Mlp(1, 2, new[] { 4 }, activation: Activation.Tanh, generator: g), new TanhBoundedAffineTransform(1)),
            new LearnableLeakyRelu(2), new Coupling(Masks.Alternating(2, 0), new Mlp(1, 2, new[] { 4 }, activation: Activation.Tanh, generator: g), new TanhBoundedAffineTransform(1))), 2),
    };
}
