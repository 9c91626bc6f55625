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
    /// <summary>The median over three seeds: one training run's KL moves with its seed and with the rounding of its arithmetic
    /// (seeds 0-4 gave 0.030-0.075 nats with the same code; a change to the order in which a kernel adds its gradients moved seed 0
    /// from 0.056 to 0.075), so a single run near the threshold says little about what the flow learns.</summary>
    [Fact]
    public void Should_Learn_UniformNormal_Target_To_A_Median_KL_Below_0_06()
    {
        var target = new UniformNormal();
        var kls = new double[3];
        for (int seed = 0; seed < kls.Length; seed++)
        {
            using var flow = Flows.LuCoupling(features: 2, steps: 16, seed: seed);
            var result = Fit.ToData(flow, target, new FitOptions { Iterations = 1000, BatchSize = 512, LearningRate = 1e-3, WeightDecay = 1e-5, Seed = seed });
            kls[seed] = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
            output.WriteLine($"uniform-normal, seed {seed}: KL = {kls[seed]:F4} nats, final loss {result.FinalLoss:F4}, skipped {result.SkippedSteps}, {result.Elapsed.TotalSeconds:F1} s");
            Assert.True(kls[seed] > -0.01, $"KL(p||q) = {kls[seed]:F4} nats (seed {seed}) cannot be clearly negative.");
            Assert.True(kls[seed] < 0.15, $"KL(p||q) = {kls[seed]:F4} nats (seed {seed}): this run did not learn the target.");
            double integral = Metrics.GridIntegral(flow, -1, 4, -8, 12, steps: 500);
            output.WriteLine($"uniform-normal, seed {seed}: integral of q over [-1, 4] x [-8, 12] = {integral:F4}");
            Assert.InRange(integral, 0.99, 1.01);
        }
        Array.Sort(kls);
        Assert.True(kls[1] < 0.06, $"median KL(p||q) = {kls[1]:F4} nats over seeds 0-2, expected below 0.06.");
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
