using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>A flow of conditional couplings learns a conditional density <c>p(x | c)</c> to a stated KL.</summary>
[Collection(TrainingCollection.Name)]
public sealed class ConditionalCouplingTrainingTests(ITestOutputHelper output)
{
    private const double Std = 0.5;

    /// <summary>c ~ U[-2, 2]; x | c ~ N(c * [1, -1], 0.5^2 I).</summary>
    private static (Tensor X, Tensor Context) SamplePairs(long count, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var c = torch.rand(new[] { count, 1L }, generator: generator).mul(4.0).sub(2.0);
        var mean = c.mul(torch.tensor(new[] { 1.0f, -1.0f }));
        var x = torch.randn(new[] { count, 2L }, generator: generator).mul(Std).add(mean);
        return scope.MoveToOuter(x, c);
    }

    private static Tensor TargetLogProb(Tensor x, Tensor c)
    {
        using var scope = torch.NewDisposeScope();
        var mean = c.mul(torch.tensor(new[] { 1.0, -1.0 }, dtype: x.dtype));
        var z = x.sub(mean).div(Std);
        return scope.MoveToOuter(z.square().mul(-0.5).sub(Math.Log(Std) + 0.5 * Math.Log(2 * Math.PI)).sum(1));
    }

    [Fact]
    public void Should_Learn_Conditional_Gaussian_To_KL_Below_0_02_When_Couplings_Take_Context()
    {
        // A RealNVP-style flow whose conditioners also see c; there is no conditional Fit yet, so the loop is written out.
        const int Steps = 2000, Batch = 512;
        const double LearningRate = 2e-3;
        using var generator = new Generator(0);
        var layers = new List<Bijector>();
        for (int i = 0; i < 4; i++)
            layers.Add(Coupling.WithMlp(Masks.Alternating(2, i % 2 == 0 ? 1 : 0), new[] { 32, 32 }, contextFeatures: 1, generator: generator));
        using var flow = new Flow(new StandardNormal(2), new Chain(layers));
        Assert.Equal(1, flow.ContextFeatures);

        var clock = Stopwatch.StartNew();
        using (var opt = torch.optim.Adam(flow.parameters(), LearningRate))
        {
            for (int step = 0; step < Steps; step++)
            {
                using (torch.NewDisposeScope())
                {
                    var (x, c) = SamplePairs(Batch, generator);
                    opt.zero_grad();
                    var loss = flow.LogProb(x, c).mean().neg();
                    loss.backward();
                    opt.step();
                }
            }
        }
        flow.eval();
        double seconds = clock.Elapsed.TotalSeconds;

        double kl;
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            using var evaluation = new Generator(7);
            var (x, c) = SamplePairs(100_000, evaluation);
            kl = TargetLogProb(x, c).sub(flow.LogProb(x, c)).mean().ToDouble();
        }
        output.WriteLine($"conditional couplings: KL(p(x|c) || q(x|c)) = {kl:F4} nats, {Steps} steps in {seconds:F1} s");
        Assert.True(kl < 0.02, $"KL = {kl:F4} nats, expected below 0.02.");
        Assert.True(kl > -0.01, $"KL = {kl:F4} nats cannot be clearly negative.");

        // The context moves the samples: at c = 1.5 the mean is near (1.5, -1.5) and the spread near 0.5 (within 8%).
        using (torch.NewDisposeScope())
        {
            using var sampling = new Generator(11);
            var context = torch.full(new[] { 20_000L, 1L }, 1.5f);
            var samples = flow.Sample(20_000, context, sampling);
            var mean = samples.mean(new long[] { 0 }).data<float>().ToArray();
            var std = samples.std(0).data<float>().ToArray();
            output.WriteLine($"at c = 1.5: mean ({mean[0]:F3}, {mean[1]:F3}), std ({std[0]:F3}, {std[1]:F3})");
            Assert.InRange(mean[0], 1.44, 1.56);
            Assert.InRange(mean[1], -1.56, -1.44);
            Assert.InRange(std[0], 0.46, 0.54);
            Assert.InRange(std[1], 0.46, 0.54);
        }
    }
}
