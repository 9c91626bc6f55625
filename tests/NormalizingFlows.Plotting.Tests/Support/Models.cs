using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;

namespace NormalizingFlows.Plotting.Tests.Support;

/// <summary>Small models with known densities.</summary>
public static class Models
{
    /// <summary>N((1.5, -1), diag(0.5^2, 0.8^2)): asymmetric, so a flipped axis would show.</summary>
    public static DiagonalGaussian Gaussian() => new(2, trainable: false, loc: new[] { 1.5, -1.0 }, scale: new[] { 0.5, 0.8 });

    /// <summary>A flow with a BatchNorm layer (whose statistics change in training mode) between two shifts.</summary>
    public static Flow WithBatchNorm() =>
        new(new StandardNormal(2), new Chain(new Shift(new[] { 0.5, -0.5 }), new BatchNorm(2), new Shift(new[] { 1.0, 0.0 })));
}
