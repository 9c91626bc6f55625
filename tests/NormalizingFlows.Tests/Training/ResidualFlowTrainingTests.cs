using NormalizingFlows.Bijectors;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using Xunit.Abstractions;

namespace NormalizingFlows.Tests.Training;

/// <summary>A residual flow trained by maximum likelihood with the stochastic power-series log-det learns the banana;
/// its KL(p||q) is then measured with exact log-dets.</summary>
[Collection(TrainingCollection.Name)]
public sealed class ResidualFlowTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Should_Learn_Banana_Target_To_KL_Below_0_08_When_Trained_With_Power_Series()
    {
        // For scale: the best Gaussian fit of the banana has KL = log(33) / 2 = 1.75 nats.
        var target = new Banana();
        using var flow = Flows.ResidualFlow(features: 2, layers: 6, hiddenFeatures: new[] { 32, 32 }, lipschitzCoefficient: 0.9,
            logDet: ResidualLogDet.PowerSeries, seed: 0);
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 1000, BatchSize = 256, LearningRate = 3e-3, Seed = 0 });
        Assert.Equal(6, ResidualBlock.SetLogDet(flow, ResidualLogDet.Exact));
        double kl = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        output.WriteLine($"residual banana: KL = {kl:F4} nats (exact log-dets), final loss {result.FinalLoss:F4}, skipped {result.SkippedSteps}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.08, $"KL(p||q) = {kl:F4} nats, expected below 0.08.");
        Assert.True(kl > -0.01, $"KL(p||q) = {kl:F4} nats cannot be clearly negative.");
    }
}
