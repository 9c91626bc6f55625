using System;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>
/// The <c>real-nvp</c> preset trained by maximum likelihood on the rings (issue 21's equal-time benchmark): with unbounded
/// log-scales a ReLU network's log-scale grows with its input, one layer's expansion feeds the next layer's log-scale, and
/// after 1 051 steps (seed 0, batch 512, Adam 1e-3) every batch overflowed float32 and the fit stopped. The preset's
/// soft-clamped log-scales keep every layer within <c>exp(+-4)</c>.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class RealNvpRingsTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Should_Keep_Learning_Without_Non_Finite_Steps_When_The_Real_Nvp_Preset_Trains_On_Rings()
    {
        // The benchmark's settings, 1 100 steps: before the clamp this fit threw FitFailedException at step 1 051 (50 non-finite
        // steps in a row) with the fused kernels, and its KL was infinite.
        var target = new Rings();
        using var flow = FlowCatalog.Get("real-nvp").Create(new PresetOptions(2, Seed: 0));
        double before = Metrics.TestNegativeLogLikelihood(target, flow, samples: 20_000, seed: 9);
        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 1100, BatchSize = 512, LearningRate = 1e-3, Seed = 0 });
        double after = Metrics.TestNegativeLogLikelihood(target, flow, samples: 20_000, seed: 9);
        output.WriteLine($"real-nvp on rings: test NLL {before:F4} -> {after:F4} nats, skipped {result.SkippedSteps}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(1100, result.Iterations);
        Assert.Equal(0, result.SkippedSteps);
        // The untrained flow is the standard normal (NLL about 3.95 here); the rings' own entropy is about 2.8 nats.
        Assert.True(after < before - 0.3, $"test NLL {after:F4} after training, {before:F4} before: expected at least 0.3 nats lower.");
    }

    [Fact]
    public void Should_Bound_Every_Layer_Log_Scale_When_The_Real_Nvp_Scale_Networks_Output_Huge_Values()
    {
        // A step that sends the log-scale networks' outputs into the hundreds (their weights x 20) must not make the flow
        // non-finite: with the clamp each of the 8 layers contributes at most |s| <= c to the log-det of its one transformed feature.
        using var clamped = Flows.RealNvp(2, 8, new[] { 16, 16 }, seed: 1);
        using var unbounded = Flows.RealNvp(2, 8, new[] { 16, 16 }, seed: 1, logScaleBound: null);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(new long[] { 256, 2 }, generator: new Generator(4)).mul(3.0);
        foreach (var flow in new[] { clamped, unbounded })
        {
            using var noGrad = torch.no_grad();
            foreach (var (name, parameter) in flow.named_parameters().Where(p => p.name.Contains("weights")))
            {
                // ParallelMlp's weights are [networks, out, in]: network 0 gives the shifts, network 1 the raw log-scales.
                parameter[1].normal_(0, 1, new Generator(7)).mul_(20.0);
            }
        }
        var (_, logAbsDet) = clamped.Bijector.Inverse(x);
        double largest = logAbsDet.abs().max().ToDouble();
        output.WriteLine($"largest |log-det| clamped {largest:F3}");
        Assert.True(logAbsDet.isfinite().all().item<bool>(), "log-dets must stay finite");
        const double Bound = 8 * Flows.RealNvpLogScaleBound;
        Assert.True(largest <= Bound + 1e-4, $"largest |log-det| {largest:F3}, expected at most {Bound}");
        Assert.True(clamped.LogProb(x).isfinite().all().item<bool>(), "log-probs must stay finite");
        // The same weights without the clamp: the bound is what holds the log-dets (so the assertion above could fail).
        var (_, free) = unbounded.Bijector.Inverse(x);
        double largestFree = free.abs().nan_to_num(double.PositiveInfinity).max().ToDouble();
        output.WriteLine($"largest |log-det| unbounded {largestFree:G4}");
        Assert.True(largestFree > Bound, $"largest unbounded |log-det| {largestFree:G4}");
    }
}
