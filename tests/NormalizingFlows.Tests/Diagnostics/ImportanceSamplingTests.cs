using System;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Diagnostics;

/// <summary>Effective sample size and log Z against cases with known answers.</summary>
public sealed class ImportanceSamplingTests
{
    [Fact]
    public void Should_Give_Full_Sample_Size_And_Known_Log_Z_When_Proposal_Is_The_Target()
    {
        using var model = new StandardNormal(3);
        var target = new GaussianTarget(new[] { 0.0, 0.0, 0.0 }, new[] { 1.0, 1.0, 1.0 });
        // The target's log-density plus 2.5: an unnormalised density with Z = e^2.5.
        var estimate = ImportanceSampling.Estimate(model, x => target.LogDensity(x).add(2.5), samples: 10_000);
        Assert.Equal(10_000, estimate.EffectiveSampleSize, 1);
        Assert.Equal(2.5, estimate.LogNormalizer, 5);
        Assert.Equal(2.5, estimate.EvidenceLowerBound, 5);
        Assert.Equal(0, estimate.ReverseKl, 5);
    }

    [Fact]
    public void Should_Match_Analytic_Ess_And_Kl_For_A_Shifted_Gaussian()
    {
        // q = N(0, 1), p = N(mu, 1): w = exp(mu x - mu^2 / 2), E[w] = 1, E[w^2] = exp(mu^2): ESS / n -> exp(-mu^2); KL(q||p) = mu^2 / 2.
        const double mu = 0.5;
        using var model = new StandardNormal(1);
        var target = new GaussianTarget(new[] { mu }, new[] { 1.0 });
        var estimate = ImportanceSampling.Estimate(model, target, samples: 400_000, seed: 3);
        Assert.Equal(Math.Exp(-mu * mu), estimate.EffectiveSampleFraction, 2);
        Assert.Equal(0, estimate.LogNormalizer, 2);
        Assert.Equal(mu * mu / 2, estimate.ReverseKl, 2);
    }

    [Fact]
    public void Should_Reject_Conditional_Models_And_Wrong_Density_Shapes()
    {
        using var conditional = new ConditionalDiagonalGaussian(2, 1, new[] { 4 });
        Assert.Equal("model", Assert.Throws<ArgumentException>(() => ImportanceSampling.Estimate(conditional, x => x.sum(1))).ParamName);
        using var model = new StandardNormal(2);
        Assert.Equal("logDensity", Assert.Throws<ArgumentException>(() => ImportanceSampling.Estimate(model, x => x, samples: 10)).ParamName);
    }
}
