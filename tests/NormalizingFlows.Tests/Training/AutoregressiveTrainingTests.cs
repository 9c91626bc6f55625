using System;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>
/// The autoregressive, neural-spline and Glow presets learn the banana (<c>x2 ~ N(0, 16)</c>, <c>x1 ~ N(x2^2 / 4, 1)</c>, reaching far
/// beyond a spline bound of 5) to a stated KL(p||q), and a conditional MAF learns a Gaussian whose mean moves with the context.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class AutoregressiveTrainingTests
{
    private static readonly int[] Hidden = { 32, 32 };
    private readonly ITestOutputHelper output;

    public AutoregressiveTrainingTests(ITestOutputHelper output)
    {
        this.output = output;
        // OpenMP's thread count is per thread: the module initializer's setting does not reach xunit's worker threads, and a
        // two-thread MKL matmul spin-waiting on two busy cores makes a step many times slower.
        torch.set_num_threads(1);
    }

    /// <summary>
    /// Fits <paramref name="flow"/> to fresh banana samples (batch 512, Adam, learning rate 1e-3 for <paramref name="iterations"/> steps,
    /// then <paramref name="settleIterations"/> steps at 2e-4 so that the final iterate is not a noisy one) and checks KL(p||q) on 100 000
    /// fresh samples.
    /// </summary>
    private double TrainOnBanana(string name, Flow flow, int iterations, double threshold, int settleIterations = 0)
    {
        var target = new Banana();
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = iterations, BatchSize = 512, LearningRate = 1e-3, Seed = 0 });
        int skipped = result.SkippedSteps;
        var elapsed = result.Elapsed;
        if (settleIterations > 0)
        {
            result = Fit.ToData(flow, target, new FitOptions { Iterations = settleIterations, BatchSize = 512, LearningRate = 2e-4, Seed = 1 });
            skipped += result.SkippedSteps;
            elapsed += result.Elapsed;
        }
        double kl = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        output.WriteLine($"{name}: KL = {kl:F4} nats after {iterations} + {settleIterations} iterations, final loss {result.FinalLoss:F4}, skipped {skipped}, {elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, skipped);
        Assert.True(kl < threshold, $"{name}: KL(p||q) = {kl:F4} nats, expected below {threshold}.");
        Assert.True(kl > -0.01, $"{name}: KL(p||q) = {kl:F4} nats cannot be clearly negative.");
        return kl;
    }

    [Fact]
    public void Should_Learn_Banana_With_Maf_To_KL_Below_0_03()
    {
        using var flow = Flows.Maf(features: 2, layers: 4, hiddenFeatures: Hidden, seed: 0);
        TrainOnBanana("maf", flow, iterations: 800, threshold: 0.03);
    }

    [Fact]
    public void Should_Learn_Banana_With_Iaf_To_KL_Below_0_05()
    {
        using var flow = Flows.Iaf(features: 2, layers: 4, hiddenFeatures: Hidden, seed: 0);
        TrainOnBanana("iaf", flow, iterations: 500, threshold: 0.05);
    }

    [Fact]
    public void Should_Learn_Banana_With_Coupling_Neural_Spline_To_KL_Below_0_05()
    {
        using var flow = Flows.NeuralSplineCoupling(features: 2, layers: 4, hiddenFeatures: Hidden, bins: 8, bound: 5.0, seed: 0);
        TrainOnBanana("nsf-coupling", flow, iterations: 800, threshold: 0.05, settleIterations: 200);
        // The data end is an ActNorm fitted to the data, and the flow keeps its mass: q integrates to 1 over the banana's box.
        var last = ((Chain)flow.Bijector).Layers[^1];
        Assert.True(last is ActNorm { IsInitialized: true }, "The data end of the preset should be an initialised ActNorm.");
        double integral = Metrics.GridIntegral(flow, -15, 60, -25, 25, steps: 500);
        output.WriteLine($"nsf-coupling: integral of q over [-15, 60] x [-25, 25] = {integral:F4}");
        Assert.InRange(integral, 0.99, 1.01);
    }

    [Fact]
    public void Should_Learn_Banana_With_Autoregressive_Neural_Spline_To_KL_Below_0_05()
    {
        using var flow = Flows.NeuralSplineAutoregressive(features: 2, layers: 3, hiddenFeatures: Hidden, bins: 8, bound: 5.0, seed: 0);
        TrainOnBanana("nsf-autoregressive", flow, iterations: 800, threshold: 0.05, settleIterations: 200);
    }

    [Fact]
    public void Should_Learn_Banana_With_Glow_To_KL_Below_0_03()
    {
        using var flow = Flows.Glow(features: 2, steps: 4, hiddenFeatures: Hidden, seed: 0);
        TrainOnBanana("glow", flow, iterations: 1000, threshold: 0.03);
    }

    [Fact]
    public void Should_Learn_Conditional_Gaussian_With_Conditional_Maf_To_KL_Below_0_02()
    {
        // x | c ~ N(c * [1, -1], 0.5^2 I), c ~ U[-2, 2].
        const double sigma = 0.5;
        using var flow = Flows.Maf(features: 2, layers: 3, hiddenFeatures: Hidden, contextFeatures: 1, seed: 0);
        using var generator = new Generator(3);
        (Tensor X, Tensor C) Draw(long count)
        {
            var c = torch.rand(new long[] { count, 1 }, generator: generator).mul(4.0).sub(2.0);
            var mean = torch.cat(new[] { c, c.neg() }, 1);
            return (torch.randn(new long[] { count, 2 }, generator: generator).mul(sigma).add(mean), c);
        }
        Tensor LogP(Tensor x, Tensor c) =>
            x.sub(torch.cat(new[] { c, c.neg() }, 1)).div(sigma).square().sum(1).mul(-0.5).sub(2 * Math.Log(sigma) + Math.Log(2 * Math.PI));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        flow.train();
        using (var opt = torch.optim.Adam(flow.parameters(), 1e-3))
        {
            for (int step = 0; step < 600; step++)
            {
                using (torch.NewDisposeScope())
                {
                    var (x, context) = Draw(512);
                    opt.zero_grad();
                    var loss = flow.LogProb(x, context).mean().neg();
                    loss.backward();
                    opt.step();
                }
            }
        }
        flow.eval();
        double kl;
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var (x, context) = Draw(100_000);
            kl = LogP(x, context).sub(flow.LogProb(x, context)).mean().ToDouble();
        }
        output.WriteLine($"conditional maf: KL(p(x|c) || q(x|c)) averaged over c = {kl:F4} nats after 600 iterations, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.02, $"Conditional KL = {kl:F4} nats, expected below 0.02.");
        Assert.True(kl > -0.01, $"Conditional KL = {kl:F4} nats cannot be clearly negative.");

        // The samples follow the context: at c = 1.5 the mean is (1.5, -1.5) and the spread 0.5. The ranges are what the KL bound
        // allows: a mean offset d costs d^2 / (2 sigma^2) nats (0.1 -> 0.02), a scale ratio r about (r - 1)^2 (1.14 -> 0.02).
        using (torch.NewDisposeScope())
        {
            var samples = flow.Sample(20_000, torch.full(20_000, 1, 1.5f), generator);
            var mean = samples.mean(new long[] { 0 }).data<float>().ToArray();
            var std = samples.std(0).data<float>().ToArray();
            output.WriteLine($"conditional maf at c = 1.5: sample mean ({mean[0]:F3}, {mean[1]:F3}), std ({std[0]:F3}, {std[1]:F3})");
            Assert.InRange(mean[0], 1.4, 1.6);
            Assert.InRange(mean[1], -1.6, -1.4);
            Assert.InRange(std[0], 0.43, 0.57);
            Assert.InRange(std[1], 0.43, 0.57);
        }
    }
}
