using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using NormalizingFlows.Tests.Training;
using Xunit.Abstractions;

namespace NormalizingFlows.Tests.Targets;

/// <summary>The new targets plug into training and evaluation: a flow fitted to samples approaches the exact density.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TargetTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Should_Learn_Two_Moons_With_RealNvp_To_KL_Below_0_08()
    {
        // KL(p||q) against the quadrature density on 100 000 fresh samples; the untrained flow is at about 1.5 nats.
        // Measured 0.048 nats (1000 iterations, about 30 s on two shared cores).
        var target = new TwoMoons();
        using var flow = Flows.RealNvp(features: 2, layers: 8, hiddenFeatures: new[] { 32, 32 }, seed: 0);
        double before = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 1000, BatchSize = 512, LearningRate = 2e-3, Seed = 0 });
        double kl = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        var (xMin, xMax, yMin, yMax) = target.Bounds;
        double integral = Metrics.GridIntegral(flow, xMin, xMax, yMin, yMax, steps: 400);
        output.WriteLine($"two-moons: KL {before:F3} -> {kl:F4} nats in 1000 iterations ({result.Elapsed.TotalSeconds:F1} s), skipped {result.SkippedSteps}; integral of q over {target.Bounds} = {integral:F4}");
        Assert.True(kl < 0.08, $"KL(p||q) = {kl:F4} nats, expected below 0.08.");
        Assert.True(kl > -0.01, $"KL(p||q) = {kl:F4} nats cannot be clearly negative.");
        Assert.InRange(integral, 0.99, 1.01);
    }
}
