using NormalizingFlows.Bijectors;

namespace NormalizingFlows.Tests.Support;

public static partial class BijectorRegistry
{
    /// <summary>Elementwise bijectors; restricted domains map the suite's normal draws into them.</summary>
    private static readonly BijectorCase[] ElementwiseCases =
    {
        new("shift-learnable", _ => new Shift(3), 3),
        new("shift-fixed", _ => new Shift(new[] { 0.5, -1.0, 2.0 }), 3),
        new("shift-learnable-from-values", _ => new Shift(new[] { 0.5, -1.0 }, learnable: true), 2),
        new("scale-learnable", _ => new Scale(3), 3),
        new("scale-fixed", _ => new Scale(new[] { 0.5, 2.0, 3.0 }), 3),
        new("elementwise-affine", _ => new ElementwiseAffine(3), 3),
        new("exp", _ => new Exp(3), 3) { DataDomain = d => d.exp() },
        new("softplus", _ => new Softplus(3), 3) { DataDomain = d => d.exp() },
        new("sigmoid", _ => new Sigmoid(3), 3) { DataDomain = d => d.sigmoid() },
        new("logit", _ => new Logit(3), 3) { BaseDomain = d => d.sigmoid() },
        new("logit-as-inverted-sigmoid", _ => new Invert(new Sigmoid(3)), 3) { BaseDomain = d => d.sigmoid() },
        new("tanh", _ => new Tanh(3), 3) { DataDomain = d => d.tanh() },
        new("leaky-relu-fixed-slope", _ => new LeakyRelu(3, slope: 0.2), 3),
        new("leaky-relu-learnable-slope", _ => new LearnableLeakyRelu(3), 3),
        new("leaky-relu-learnable-slope-per-feature", _ => new LearnableLeakyRelu(3, initialSlope: 0.3, perFeature: true), 3),
    };
}
