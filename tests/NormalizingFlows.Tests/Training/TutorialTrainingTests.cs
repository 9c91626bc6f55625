using System;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using Xunit.Abstractions;

namespace NormalizingFlows.Tests.Training;

/// <summary>The source tutorials' flows learn their targets to a stated KL(p||q) against the exact density.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TutorialTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Should_Learn_UniformNormal_Target_To_KL_Below_0_06()
    {
        var target = new UniformNormal();
        using var flow = Flows.LuCoupling(features: 2, steps: 16, seed: 0);
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 1000, BatchSize = 512, LearningRate = 1e-3, WeightDecay = 1e-5, Seed = 0 });
        double kl = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        output.WriteLine($"uniform-normal: KL = {kl:F4} nats, final loss {result.FinalLoss:F4}, skipped {result.SkippedSteps}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.06, $"KL(p||q) = {kl:F4} nats, expected below 0.06.");
        Assert.True(kl > -0.01, $"KL(p||q) = {kl:F4} nats cannot be clearly negative.");
        double integral = Metrics.GridIntegral(flow, -1, 4, -8, 12, steps: 500);
        output.WriteLine($"uniform-normal: integral of q over [-1, 4] x [-8, 12] = {integral:F4}");
        Assert.InRange(integral, 0.99, 1.01);
    }

    [Fact]
    public void Should_Learn_Banana_Target_To_KL_Below_0_05()
    {
        var target = new Banana();
        using var flow = Flows.RealNvp(features: 2, layers: 8, seed: 0);
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 2000, BatchSize = 512, LearningRate = 1e-3, Seed = 0 });
        double kl = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        output.WriteLine($"banana: KL = {kl:F4} nats, final loss {result.FinalLoss:F4}, skipped {result.SkippedSteps}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.05, $"KL(p||q) = {kl:F4} nats, expected below 0.05.");
        Assert.True(kl > -0.01, $"KL(p||q) = {kl:F4} nats cannot be clearly negative.");
        double integral = Metrics.GridIntegral(flow, -15, 60, -25, 25, steps: 800);
        output.WriteLine($"banana: integral of q over [-15, 60] x [-25, 25] = {integral:F4}");
        Assert.InRange(integral, 0.99, 1.01);
    }
}
