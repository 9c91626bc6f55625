using System;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>Reverse-KL (variational) fits to densities, learned without a single sample of the target.</summary>
[Collection(TrainingCollection.Name)]
public sealed class VariationalFitTests(ITestOutputHelper output)
{
    [Fact]
    public void Should_Learn_The_Banana_From_Its_Density_Alone()
    {
        var target = new Banana();
        using var flow = Flows.RealNvp(2, 8, new[] { 64, 64 }, seed: 1);
        var result = Fit.ToDensity(flow, target, new FitOptions { Iterations = 1500, BatchSize = 256, LearningRate = 1e-3, Seed = 2 });
        var estimate = ImportanceSampling.Estimate(flow, target, 50_000);
        double kl = Metrics.KlDivergence(target, flow, 50_000);
        output.WriteLine($"banana reverse KL: ESS fraction {estimate.EffectiveSampleFraction:F3}, log Z {estimate.LogNormalizer:F4}, " +
                         $"reverse KL {estimate.ReverseKl:F4}, forward KL {kl:F4}, final loss {result.FinalLoss:F4}");
        Assert.Equal(0, result.SkippedSteps);
        Assert.True(estimate.EffectiveSampleFraction > 0.9, $"ESS fraction {estimate.EffectiveSampleFraction:F3}");
        Assert.True(Math.Abs(estimate.LogNormalizer) < 0.02, $"log Z = {estimate.LogNormalizer:F4} for a normalised target");
        Assert.True(kl < 0.1, $"KL(p||q) = {kl:F4}");
    }

    [Fact]
    public void Should_Learn_Both_Modes_Of_An_Unnormalised_Density_With_Annealing_And_Path_Derivative()
    {
        var target = new TwoModes();
        using var flow = Flows.RealNvp(2, 8, new[] { 64, 64 }, seed: 1);
        var variational = new VariationalOptions { InitialBeta = 0.2, AnnealingIterations = 500, PathDerivative = true };
        Fit.ToDensity(flow, target, new FitOptions { Iterations = 1500, BatchSize = 256, LearningRate = 1e-3, Seed = 2 }, variational);
        var estimate = ImportanceSampling.Estimate(flow, target, 50_000);
        using var samples = flow.Sample(20_000, generator: new Generator(5));
        double right = samples.select(1, 0).gt(0).to(ScalarType.Float64).mean().ToDouble();
        output.WriteLine($"two modes: ESS fraction {estimate.EffectiveSampleFraction:F3}, log Z {estimate.LogNormalizer:F4} (true {Math.Log(6.5372):F4}), " +
                         $"reverse KL {estimate.ReverseKl:F4}, right-hand mass {right:F3}");
        Assert.True(right > 0.4 && right < 0.6, $"mass right of 0: {right:F3} (each mode holds half)");
        Assert.True(estimate.EffectiveSampleFraction > 0.85, $"ESS fraction {estimate.EffectiveSampleFraction:F3}");
        Assert.True(Math.Abs(estimate.LogNormalizer - Math.Log(6.5372)) < 0.02, $"log Z = {estimate.LogNormalizer:F4}");
    }

    [Fact]
    public void Should_Lower_The_Loss_With_The_Path_Derivative_Gradient()
    {
        var target = new Banana();
        double Final(bool pathDerivative)
        {
            using var flow = Flows.RealNvp(2, 4, new[] { 32 }, seed: 1);
            var result = Fit.ToDensity(flow, target, new FitOptions { Iterations = 300, BatchSize = 256, LearningRate = 2e-3 },
                new VariationalOptions { PathDerivative = pathDerivative });
            return result.Losses.Skip(250).Average();
        }
        double plain = Final(false), sticking = Final(true);
        output.WriteLine($"mean loss of the last 50 steps: plain {plain:F4}, path derivative {sticking:F4}");
        // Both estimate KL(q||p) - log Z = KL(q||p) here (normalised target), which is positive and falls from about 3.
        Assert.True(sticking < 0.3 && sticking > -0.05, $"path derivative final loss {sticking:F4}");
        Assert.True(plain < 0.3, $"plain final loss {plain:F4}");
    }

    [Fact]
    public void Should_Reject_Conditional_Models_And_Data_Options()
    {
        using var conditional = new ConditionalDiagonalGaussian(2, 1, new[] { 4 });
        Assert.Equal("model", Assert.Throws<ArgumentException>(() => Fit.ToDensity(conditional, new Banana())).ParamName);
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => Fit.ToDensity(flow, new Banana(), new FitOptions { ValidationSize = 10 })).ParamName);
        var error = Assert.Throws<ArgumentException>(() => Fit.ToDensity(flow, x => x.sum(), new FitOptions { Iterations = 2 }));
        Assert.Contains("shape [512]", error.Message);
    }
}
