using System;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Tests.Support;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>Planar and radial flows fitted by variational inference (reverse KL through SampleWithLogProb), batch
/// normalisation and the invertible 1x1 convolution fitted by maximum likelihood, each to a stated KL.</summary>
[Collection(TrainingCollection.Name)]
public sealed class LayerTrainingTests(ITestOutputHelper output)
{
    /// <summary>Minimises KL(q||p) = E_q[log q - log p] with samples and log-densities from one forward pass; returns
    /// the final estimate of KL(q||p) on fresh samples.</summary>
    private double FitReverseKl(Flow flow, CurvedGaussian target, int steps, double learningRate, string name)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var generator = new Generator(0);
        using (var optimizer = torch.optim.Adam(flow.parameters(), learningRate))
        {
            for (int step = 0; step < steps; step++)
            {
                using var scope = torch.NewDisposeScope();
                var (x, logQ) = flow.SampleWithLogProb(256, generator: generator);
                var loss = logQ.sub(target.LogDensity(x)).mean();
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }
        using var evaluation = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var evalGenerator = new Generator(7);
        var (samples, logProb) = flow.SampleWithLogProb(50_000, generator: evalGenerator);
        double kl = logProb.sub(target.LogDensity(samples)).to(ScalarType.Float64).mean().ToDouble();
        output.WriteLine($"{name}: KL(q||p) = {kl:F4} nats after {steps} steps, {clock.Elapsed.TotalSeconds:F1} s");
        return kl;
    }

    [Fact]
    public void Should_Fit_Curved_Target_To_Reverse_KL_Below_0_05_When_Planar_Flow()
    {
        // For scale: the standard normal base alone is at KL(q||p) = 1.75 / 0.5 - 1/2 + log(0.5) = 2.31 nats from this target.
        var target = new CurvedGaussian();
        using var flow = Flows.Planar(features: 2, layers: 16, seed: 0);
        double kl = FitReverseKl(flow, target, steps: 1000, learningRate: 1e-2, "planar");
        Assert.True(kl < 0.05, $"KL(q||p) = {kl:F4} nats, expected below 0.05.");
        Assert.True(kl > -0.01);
    }

    [Fact]
    public void Should_Fit_Curved_Target_To_Reverse_KL_Below_0_12_When_Radial_Flow()
    {
        var target = new CurvedGaussian();
        using var flow = Flows.Radial(features: 2, layers: 16, seed: 0);
        double kl = FitReverseKl(flow, target, steps: 1000, learningRate: 1e-2, "radial");
        Assert.True(kl < 0.12, $"KL(q||p) = {kl:F4} nats, expected below 0.12.");
        Assert.True(kl > -0.01);
    }

    [Fact]
    public void Should_Learn_A_Gaussian_Exactly_When_Flow_Is_One_Batch_Norm()
    {
        // x = BatchNorm forward of z ~ N(0, I): in evaluation mode an affine map, so it can match N(mean, diag(std^2)) exactly.
        var target = new GaussianTarget(new[] { 3.0, -1.0 }, new[] { 0.5, 2.0 });
        using var flow = new Flow(new StandardNormal(2), new BatchNorm(2));
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 400, BatchSize = 512, LearningRate = 1e-2, Seed = 0 });
        Assert.False(flow.training, "Fit should leave the model in evaluation mode.");
        double kl = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        output.WriteLine($"batch norm: KL = {kl:F5} nats, {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.002, $"KL(p||q) = {kl:F5} nats, expected below 0.002.");
    }

    [Fact]
    public void Should_Learn_Banana_To_KL_Below_0_06_When_Couplings_Alternate_With_Batch_Norm()
    {
        var target = new NormalizingFlows.Targets.Banana();
        using var generator = new Generator(0);
        var layers = new System.Collections.Generic.List<Bijector>();
        for (int i = 0; i < 6; i++)
        {
            layers.Add(Coupling.WithMlp(Masks.Alternating(2, i % 2), new[] { 32, 32 }, generator: generator));
            layers.Add(new BatchNorm(2));
        }
        using var flow = new Flow(new StandardNormal(2), new Chain(layers));
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 1500, BatchSize = 256, LearningRate = 2e-3, Seed = 0 });
        double kl = Metrics.KlDivergence(target, flow, samples: 100_000, seed: 7);
        output.WriteLine($"coupling + batch norm banana: KL = {kl:F4} nats, final loss {result.FinalLoss:F4}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(kl < 0.06, $"KL(p||q) = {kl:F4} nats, expected below 0.06.");
        Assert.True(kl > -0.01);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_Learn_Channel_Covariance_To_KL_Below_0_01_When_Invertible_Conv1x1(bool lu)
    {
        // Data: at every pixel the channels are N(0, A A^T). Model: x = W z with z ~ N(0, I) at every pixel, fitted by
        // maximum likelihood. Exact KL per 2 x 2 image = 4 KL(N(0, A A^T) || N(0, W W^T)).
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3);
        var a = torch.tensor(new[] { 1.5, 0.0, 0.0, 0.8, 0.5, 0.0, -0.6, 0.3, 0.4 }, dtype: ScalarType.Float64).view(3, 3);
        using var layer = new InvertibleConv1x1(3, 2, 2, lu, generator);
        using (var optimizer = torch.optim.Adam(layer.parameters(), 0.01))
        {
            for (int step = 0; step < 1000; step++)
            {
                using var stepScope = torch.NewDisposeScope();
                var z = torch.randn(new long[] { 128, 3, 4 }, dtype: ScalarType.Float64, generator: generator);
                var x = a.matmul(z).view(128, 3, 2, 2).to(ScalarType.Float32);
                var (u, logAbsDet) = layer.Inverse(x);
                var logProb = u.square().flatten(1).sum(1).mul(-0.5).add(logAbsDet);      // constants dropped
                optimizer.zero_grad();
                logProb.mean().neg().backward();
                optimizer.step();
            }
        }
        var w = layer.Weight().to(ScalarType.Float64);
        var sigmaP = a.matmul(a.t());
        var sigmaQ = w.matmul(w.t());
        double kl = 4 * 0.5 * (torch.linalg.solve(sigmaQ, sigmaP).trace().ToDouble() - 3
            + torch.linalg.slogdet(sigmaQ).Item2.ToDouble() - torch.linalg.slogdet(sigmaP).Item2.ToDouble());
        output.WriteLine($"invertible 1x1 convolution ({(lu ? "LU" : "full")}): KL = {kl:F6} nats per image");
        Assert.True(kl < 0.01, $"KL per image = {kl:F5} nats, expected below 0.01.");
        Assert.True(kl > -1e-9);
    }
}
