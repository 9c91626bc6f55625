using System;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Diagnostics;

public sealed class MetricsTests
{
    [Fact]
    public void Should_Estimate_Analytic_KL_Between_Gaussians()
    {
        var target = new GaussianTarget(new[] { 0.0, 1.0 }, new[] { 1.0, 2.0 });
        var mu = new[] { 0.5, 0.0 };
        var sigma = new[] { 1.5, 1.0 };
        using var model = new DiagonalGaussian(2, trainable: false, loc: mu, scale: sigma);
        model.to(ScalarType.Float64);
        double estimate = Metrics.KlDivergence(target, model, samples: 200_000, seed: 3);
        double exact = target.KlTo(mu, sigma);
        Assert.InRange(estimate, exact - 0.02, exact + 0.02);
    }

    [Fact]
    public void Should_Give_Zero_KL_When_Model_Equals_Target()
    {
        var target = new GaussianTarget(new[] { 0.0, 0.0 }, new[] { 1.0, 1.0 });
        using var model = new StandardNormal(2);
        Assert.InRange(Metrics.KlDivergence(target, model, samples: 100_000), -1e-5, 1e-5);
    }

    [Fact]
    public void Should_Compute_Entropy_As_Test_NLL_When_Model_Equals_Target()
    {
        var target = new GaussianTarget(new[] { 0.0, 0.0 }, new[] { 1.0, 1.0 });
        using var model = new StandardNormal(2);
        double nll = Metrics.TestNegativeLogLikelihood(target, model, samples: 200_000);
        double entropy = 1 + Math.Log(2 * Math.PI); // 2 x 0.5 (1 + log 2 pi)
        Assert.InRange(nll, entropy - 0.01, entropy + 0.01);
    }

    [Fact]
    public void Should_Integrate_Target_Densities_To_One()
    {
        // The grid helper and the exact densities agree: a numerical check of both targets.
        foreach (var (target, box) in new (ITarget, double[])[]
                 { (new UniformNormal(), new[] { 0.5, 2.5, -6.0, 10.0 }), (new Banana(), new[] { -10.0, 60.0, -20.0, 20.0 }) })
        {
            using var scope = torch.NewDisposeScope();
            int steps = 1500;
            var grid = Metrics.Grid(box[0], box[1], box[2], box[3], steps, ScalarType.Float64);
            double sum = target.LogDensity(grid).exp().sum().ToDouble();
            double integral = sum * (box[1] - box[0]) / steps * (box[3] - box[2]) / steps;
            Assert.InRange(integral, 0.99, 1.01);
        }
    }

    [Fact]
    public void Should_Give_Minus_Infinity_Outside_Support_Of_UniformNormal()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 0.5f, 1f, 1.5f, 1.5f, 2.5f, 2f }).reshape(3, 2);
        var logP = new UniformNormal().LogDensity(x).data<float>().ToArray();
        Assert.True(float.IsNegativeInfinity(logP[0]));
        Assert.True(float.IsFinite(logP[1]));
        Assert.True(float.IsNegativeInfinity(logP[2]));
    }

    [Fact]
    public void Should_Reject_Non_2D_Model_When_Integrating_On_Grid()
    {
        using var model = new StandardNormal(3);
        var error = Assert.Throws<ArgumentException>(() => Metrics.GridIntegral(model, -1, 1, -1, 1));
        Assert.Contains("[3]", error.Message);
    }
}
