using System;
using System.IO;
using System.Linq;
using System.Threading;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Support;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>Continuous flows trained by flow matching and by maximum likelihood through the solver.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FlowMatchingTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "nflows-fm-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private static Flow Small(long seed = 0) => Flows.Continuous(2, new[] { 64, 64 }, activation: Activation.Silu, seed: seed);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_Learn_Banana_To_A_Fraction_Of_The_Untrained_KL_When_Flow_Matched(bool optimalTransport)
    {
        // For scale: the best Gaussian fit of the banana has KL = log(33) / 2 = 1.75 nats; the untrained flow (N(0, I)) much more.
        var target = new Banana();
        using var flow = Small();
        double untrained = Metrics.KlDivergence(target, flow, samples: 4000, seed: 7);
        // Optimal transport costs O(batch^3) per step on the CPU (about 20 ms at 256 rows, most of this test's time).
        var result = Fit.FlowMatching(flow, target, new FitOptions { Iterations = 1500, BatchSize = 256, LearningRate = 3e-3, Seed = 0 },
            new FlowMatchingOptions { OptimalTransport = optimalTransport });
        double kl = Metrics.KlDivergence(target, flow, samples: 4000, seed: 7);
        var continuous = (ContinuousFlow)flow.Bijector;
        output.WriteLine($"flow matching (OT {optimalTransport}) on banana: KL {untrained:F3} -> {kl:F4} nats, final loss {result.FinalLoss:F3}, " +
                         $"{result.Elapsed.TotalSeconds:F1} s training, last log-prob: {continuous.LastFunctionEvaluations} evaluations, {continuous.LastSteps} steps");
        Assert.False(flow.LogProbIsEstimate);
        Assert.True(kl < 0.25, $"KL(p||q) = {kl:F4} nats after flow matching, expected below 0.25 (untrained {untrained:F3}).");
        Assert.True(kl < untrained / 10);
    }

    [Fact]
    public void Should_Lower_The_Held_Out_NLL_When_Trained_By_Maximum_Likelihood_Through_The_Solver()
    {
        // A shifted, stretched Gaussian: an affine velocity field suffices, so a few steps through the solver move the NLL.
        using var generator = new Generator(3);
        var scale = torch.tensor(new[] { 2.0f, 0.5f });
        var shift = torch.tensor(new[] { 1.5f, -1.0f });
        var train = torch.randn(new long[] { 512, 2 }, generator: generator).mul(scale).add(shift, 1.0.ToScalar());
        var test = torch.randn(new long[] { 2000, 2 }, generator: generator).mul(scale).add(shift, 1.0.ToScalar());
        using var flow = Flows.Continuous(2, new[] { 16 }, seed: 1);
        var continuous = (ContinuousFlow)flow.Bijector;
        continuous.RelativeTolerance = 1e-3;
        continuous.AbsoluteTolerance = 1e-3;
        double before = Metrics.NegativeLogLikelihood(flow, test);
        var result = Fit.ToData(flow, train, new FitOptions { Iterations = 60, BatchSize = 128, LearningRate = 1e-2, Seed = 0 });
        double after = Metrics.NegativeLogLikelihood(flow, test);
        // The exact NLL of the data's own Gaussian: log(2 pi) + log(2 * 0.5) + 1 = 2.838 nats.
        output.WriteLine($"maximum likelihood through the solver: test NLL {before:F3} -> {after:F3} nats (true density 2.838), {result.SkippedSteps} skipped, {result.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, result.SkippedSteps);
        Assert.True(after < before - 0.5, $"test NLL {before:F3} -> {after:F3}");
    }

    [Fact]
    public void Should_Lower_The_Reverse_KL_When_Fit_To_A_Density_Through_The_Solver()
    {
        // p = N((1.5, -1), I): the untrained flow (N(0, I)) is KL(q||p) = |m|^2 / 2 = 1.625 nats away; a shift suffices.
        var mean = torch.tensor(new[] { 1.5f, -1.0f });
        Tensor LogDensity(Tensor x) => x.sub(mean).pow(2).sum(1).mul(-0.5).sub(Math.Log(2 * Math.PI));
        using var flow = Flows.Continuous(2, new[] { 16 }, seed: 2);
        var continuous = (ContinuousFlow)flow.Bijector;
        continuous.RelativeTolerance = 1e-3;
        continuous.AbsoluteTolerance = 1e-3;
        var result = Fit.ToDensity(flow, LogDensity, new FitOptions { Iterations = 80, BatchSize = 128, LearningRate = 1e-2, Seed = 0 });
        double first = result.Losses[0], last = result.Losses.TakeLast(10).Average();
        output.WriteLine($"reverse KL through the solver: {first:F3} -> {last:F3} nats (mean of the last 10 steps), {result.Elapsed.TotalSeconds:F1} s");
        Assert.InRange(first, 1.2, 2.1);
        Assert.True(last < 0.3, $"reverse KL {first:F3} -> {last:F3}");
    }

    [Fact]
    public void Should_Keep_Live_Tensor_Count_Flat_When_Training_And_Evaluating_Continuous_Flows()
    {
        using var flow = Flows.Continuous(2, new[] { 8 }, seed: 2);
        var continuous = (ContinuousFlow)flow.Bijector;
        continuous.RelativeTolerance = 1e-3;
        continuous.AbsoluteTolerance = 1e-3;
        var target = new Banana();
        long LiveAfter(int iterations)
        {
            DisposeScopeManager.Statistics.Reset();
            var options = new FitOptions { Iterations = iterations, BatchSize = 32 };
            Fit.FlowMatching(flow, target, options, new FlowMatchingOptions { OptimalTransport = true });
            Fit.ToData(flow, target, options);
            for (int i = 0; i < iterations; i++)
            {
                flow.Sample(16).Dispose();
                using var points = target.Sample(16);
                using (torch.inference_mode()) flow.LogProb(points).Dispose();
                using var z = torch.randn(16, 2);
                continuous.Transport(z).Dispose();
            }
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
        LiveAfter(3); // warm-up: lazily created state
        long few = LiveAfter(5);
        long many = LiveAfter(40);
        Assert.True(many <= few, $"Live tensors grew from {few} after 5 steps to {many} after 40 steps.");
    }

    [Fact]
    public void Should_End_With_The_Same_Parameters_When_Resumed_From_A_Checkpoint()
    {
        Directory.CreateDirectory(folder);
        using var data = new TwoMoons().Sample(400, new Generator(2));
        var options = new FitOptions { Epochs = 6, BatchSize = 100, LearningRate = 3e-3, Seed = 4 };
        var matching = new FlowMatchingOptions { OptimalTransport = true };
        using var reference = Small(1);
        Fit.FlowMatching(reference, data, options, matching);

        string checkpoint = Path.Combine(folder, "fm.nflow");
        using (var first = Small(1))
        using (var cancellation = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress(p => { if (p.Iteration == 9) cancellation.Cancel(); });
            var partial = Fit.FlowMatching(first, data, options with { CheckpointPath = checkpoint, ProgressInterval = 1 }, matching, progress, cancellation.Token);
            Assert.True(partial.Cancelled);
        }
        using var resumed = Small(5);
        Fit.FlowMatching(resumed, data, options with { ResumeFrom = checkpoint }, matching);
        foreach (var (name, tensor) in reference.state_dict())
            Assert.True(tensor.eq(resumed.state_dict()[name]).all().item<bool>(), $"{name} differs after resuming");

        // The checkpoint records the objective: the same run without optimal transport refuses to resume from it.
        using var other = Small(1);
        var error = Assert.Throws<ArgumentException>(() => Fit.FlowMatching(other, data, options with { ResumeFrom = checkpoint }));
        Assert.Contains("objective", error.Message);
    }

    [Fact]
    public void Should_Match_Through_A_Standardisation_When_The_Flow_Is_Standardised()
    {
        // The flow-matching path runs between the base and the continuous flow's data end: data rows go back through the
        // standardisation first. Learned on data of scale ~[10, 0.1], the flow's samples get that scale.
        using var generator = new Generator(8);
        var scale = torch.tensor(new[] { 10.0f, 0.1f });
        var data = torch.randn(new long[] { 1000, 2 }, generator: generator).mul(scale);
        using var flow = Small(2).Standardized(data);
        Fit.FlowMatching(flow, data, new FitOptions { Epochs = 60, BatchSize = 100, LearningRate = 3e-3, Seed = 0 });
        var samples = flow.Sample(2000, null, new Generator(1));
        var std = samples.std(0);
        output.WriteLine($"standardised flow matching: sample std [{std[0].item<float>():F3}, {std[1].item<float>():F3}] for [10, 0.1]");
        Assert.InRange(std[0].item<float>(), 8.5, 11.5);
        Assert.InRange(std[1].item<float>(), 0.085, 0.115);
    }

    [Fact]
    public void Should_Learn_The_Context_When_Flow_Matching_A_Conditional_Flow()
    {
        // x | c ~ N(c, 0.5^2 I): after training, samples given c = +-2 have means near +-2.
        using var generator = new Generator(4);
        var context = torch.rand(new long[] { 2000, 1 }, generator: generator).mul(6.0.ToScalar()).sub(3.0.ToScalar());
        var data = torch.randn(new long[] { 2000, 2 }, generator: generator).mul(0.5.ToScalar()).add(context.expand(2000, 2), 1.0.ToScalar());
        using var flow = Flows.Continuous(2, new[] { 64, 64 }, contextFeatures: 1, activation: Activation.Silu, seed: 3);
        Fit.FlowMatching(flow, data, context, new FitOptions { Epochs = 15, BatchSize = 200, LearningRate = 3e-3, Seed = 0 });
        foreach (float c in new[] { -2f, 2f })
        {
            var given = torch.full(new long[] { 1000, 1 }, c.ToScalar());
            var mean = flow.Sample(1000, given, new Generator(5)).mean(new long[] { 0 });
            output.WriteLine($"context {c}: sample mean [{mean[0].item<float>():F3}, {mean[1].item<float>():F3}]");
            Assert.InRange(mean[0].item<float>(), c - 0.3, c + 0.3);
            Assert.InRange(mean[1].item<float>(), c - 0.3, c + 0.3);
        }
        Assert.Throws<ArgumentException>(() => Fit.FlowMatching(flow, data, context, new FitOptions { Iterations = 1 }, new FlowMatchingOptions { OptimalTransport = true }));
    }

    [Fact]
    public void Should_Name_The_Problem_When_The_Flow_Cannot_Be_Flow_Matched()
    {
        using var data = torch.randn(100, 2);
        using var realNvp = Flows.RealNvp(2, 2, new[] { 8 });
        Assert.Contains("ContinuousFlow", Assert.Throws<ArgumentException>(() => Fit.FlowMatching(realNvp, data)).Message);
        using var trainableBase = new Flow(new NormalizingFlows.Distributions.DiagonalGaussian(2, trainable: true), new ContinuousFlow(2, new[] { 8 }));
        Assert.Contains("DiagonalGaussian", Assert.Throws<ArgumentException>(() => Fit.FlowMatching(trainableBase, data)).Message);
        using var flow = Small();
        Assert.Throws<ArgumentOutOfRangeException>(() => Fit.FlowMatching(flow, data, null, new FlowMatchingOptions { PathNoise = -1 }));
    }
}
