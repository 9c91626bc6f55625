using System;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Tests.Support;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>Trainable base distributions learn data from a known density to a stated KL(p||q).</summary>
[Collection(TrainingCollection.Name)]
public sealed class BaseDistributionTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Should_Fit_Mixture_Data_To_KL_Below_0_01_When_Gaussian_Mixture()
    {
        using var truth = new GaussianMixture(3, 2, new[] { 0.5, 0.3, 0.2 },
            new double[,] { { -2.0, 0.0 }, { 1.5, 1.5 }, { 1.0, -2.0 } }, new double[,] { { 0.5, 1.0 }, { 0.8, 0.4 }, { 1.2, 0.7 } }, trainable: false);
        truth.to(ScalarType.Float64);
        var target = new DistributionTarget("mixture", truth);
        using var dataGenerator = new Generator(3);
        using var data = target.Sample(20_000, dataGenerator);
        using var initGenerator = new Generator(0);
        using var model = new GaussianMixture(3, 2, generator: initGenerator);
        var result = Fit.ToData(model, data, new FitOptions { Iterations = 1500, BatchSize = 512, LearningRate = 0.03, Seed = 0 });
        double kl = Metrics.KlDivergence(target, model, samples: 100_000, seed: 7);
        output.WriteLine($"gaussian mixture: KL = {kl:F5} nats, final loss {result.FinalLoss:F4}, {result.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"weights {string.Join(", ", model.Weights.data<float>().ToArray().Select(w => w.ToString("F3")))}");
        Assert.True(kl < 0.01, $"KL(p||q) = {kl:F5} nats, expected below 0.01.");
        Assert.True(kl > -0.005, $"KL(p||q) = {kl:F5} nats cannot be clearly negative.");
    }

    [Fact]
    public void Should_Recover_Degrees_Of_Freedom_When_Student_T_Is_Fitted_To_Heavy_Tailed_Data()
    {
        using var truth = new StudentT(2, degreesOfFreedom: 3, loc: new[] { 1.0, -1.0 }, scale: new[] { 0.5, 2.0 }, trainable: false);
        truth.to(ScalarType.Float64);
        var target = new DistributionTarget("student-t", truth);
        using var model = new StudentT(2, degreesOfFreedom: 10, trainableDegreesOfFreedom: true);
        var result = Fit.ToData(model, target, new FitOptions { Iterations = 1000, BatchSize = 512, LearningRate = 0.02, Seed = 0 });
        double kl = Metrics.KlDivergence(target, model, samples: 100_000, seed: 7);
        var dof = model.DegreesOfFreedom.data<float>().ToArray();
        output.WriteLine($"student-t: KL = {kl:F5} nats, nu = [{dof[0]:F2}, {dof[1]:F2}], final loss {result.FinalLoss:F4}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.005, $"KL(p||q) = {kl:F5} nats, expected below 0.005.");
        Assert.All(dof, nu => Assert.InRange(nu, 2.3, 4.0));
    }

    [Fact]
    public void Should_Learn_Context_Dependent_Mean_And_Scale_When_Conditional_Gaussian()
    {
        // Truth: c ~ U(-1, 1)^2, x | c ~ N(mu(c), diag(sigma(c)^2)) with mu = [c0 + c1, 2 c0 - 1], sigma = [exp(c1 / 2), 0.5 + c0^2 / 4].
        static (Tensor Mean, Tensor Scale) Truth(Tensor c)
        {
            var c0 = c.select(1, 0);
            var c1 = c.select(1, 1);
            return (torch.stack(new[] { c0.add(c1), c0.mul(2).sub(1) }, 1), torch.stack(new[] { c1.mul(0.5).exp(), c0.square().mul(0.25).add(0.5) }, 1));
        }
        using var generator = new Generator(0);
        using var model = new ConditionalDiagonalGaussian(2, 2, new[] { 32, 32 }, generator: generator);
        using var optimizer = torch.optim.Adam(model.parameters(), 3e-3);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int step = 0; step < 3000; step++)
        {
            using var scope = torch.NewDisposeScope();
            var c = torch.rand(new long[] { 256, 2 }, generator: generator).mul(2).sub(1);
            var (mean, scale) = Truth(c);
            var x = torch.randn(new long[] { 256, 2 }, generator: generator).mul(scale).add(mean);
            optimizer.zero_grad();
            var loss = model.LogProb(x, c).mean().neg();
            loss.backward();
            optimizer.step();
        }
        model.eval();
        using var evaluation = torch.NewDisposeScope();
        using var evalGenerator = new Generator(9);
        var contexts = torch.rand(new long[] { 20_000, 2 }, generator: evalGenerator).mul(2).sub(1);
        var (m1, s1) = Truth(contexts);
        var (m2, s2) = model.MeanAndScale(contexts);
        // KL(N(m1, s1^2) || N(m2, s2^2)) per dimension, summed, averaged over contexts.
        var kl = s2.div(s1).log().add(s1.square().add(m1.sub(m2).square()).div(s2.square().mul(2))).sub(0.5).sum(1).mean().ToDouble();
        output.WriteLine($"conditional gaussian: E_c KL = {kl:F5} nats, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.01, $"E_c KL(p(.|c) || q(.|c)) = {kl:F5} nats, expected below 0.01.");
        Assert.True(kl >= 0, "A KL between Gaussians cannot be negative.");
    }
}
