using System;
using System.IO;
using System.Linq;
using System.Threading;
using NormalizingFlows.Serialization;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Support;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>Training checkpoints: a resumed fit ends exactly where an uninterrupted one does.</summary>
[Collection(TrainingCollection.Name)]
public sealed class CheckpointTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "nflows-checkpoints-" + Guid.NewGuid().ToString("N"));

    public CheckpointTests() => Directory.CreateDirectory(folder);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static Tensor Data()
    {
        using var generator = new Generator(7);
        return new Banana().Sample(1000, generator);
    }

    private static readonly FitOptions Options = new()
    {
        Epochs = 12, BatchSize = 100, LearningRate = 3e-3, Seed = 5, ValidationFraction = 0.2, Schedule = LearningRateSchedule.Cosine(0.1),
        WarmupIterations = 10, Optimizer = OptimizerKind.AdamW, WeightDecay = 1e-4,
    };

    private static double[] Parameters(Distribution model) =>
        model.state_dict().Values.SelectMany(t => t.detach().to(ScalarType.Float64).reshape(-1).data<double>().ToArray()).ToArray();

    [Fact]
    public void Should_End_With_The_Same_Parameters_When_Resumed_From_A_Checkpoint()
    {
        using var data = Data();
        // Uninterrupted: 12 epochs of 8 steps.
        using var reference = Flows.RealNvp(2, 4, new[] { 16 }, seed: 1);
        var full = Fit.ToData(reference, data, Options);

        // Interrupted after 30 steps (mid-epoch), checkpoint written when cancelled.
        string checkpoint = Path.Combine(folder, "run.nflow");
        using (var first = Flows.RealNvp(2, 4, new[] { 16 }, seed: 1))
        using (var cancellation = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress(p => { if (p.Iteration == 30) cancellation.Cancel(); });
            var partial = Fit.ToData(first, data, Options with { CheckpointPath = checkpoint, CheckpointInterval = 7, ProgressInterval = 1 }, progress, cancellation.Token);
            Assert.True(partial.Cancelled);
            Assert.Equal(30, partial.Iterations);
        }

        // Resumed into a model with other initial weights: the checkpoint's weights replace them.
        using var resumed = Flows.RealNvp(2, 4, new[] { 16 }, seed: 99);
        var rest = Fit.ToData(resumed, data, Options with { ResumeFrom = checkpoint });
        Assert.Equal(30, rest.ResumedAt);
        Assert.Equal(full.Iterations, rest.Iterations);
        Assert.Equal(full.Losses, rest.Losses);
        Assert.Equal(full.Validation, rest.Validation);
        Assert.Equal(full.Best, rest.Best);
        Assert.Equal(Parameters(reference), Parameters(resumed));
    }

    [Fact]
    public void Should_Continue_The_Dequantisation_Noise_Exactly_When_Resumed_And_Refuse_Other_Columns()
    {
        // Integer rows (banana scaled by 3 and rounded), noise on both columns every step from the fit's generator.
        using var raw = Data();
        using var data = raw.mul(3).round();
        var options = Options with { Epochs = 4, DequantizeColumns = new[] { 0, 1 } };
        using var reference = Flows.RealNvp(2, 4, new[] { 16 }, seed: 1);
        var full = Fit.ToData(reference, data, options);

        string checkpoint = Path.Combine(folder, "dequantized.nflow");
        using (var first = Flows.RealNvp(2, 4, new[] { 16 }, seed: 1))
        using (var cancellation = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress(p => { if (p.Iteration == 13) cancellation.Cancel(); });
            Fit.ToData(first, data, options with { CheckpointPath = checkpoint, ProgressInterval = 1 }, progress, cancellation.Token);
        }
        using var resumed = Flows.RealNvp(2, 4, new[] { 16 }, seed: 99);
        var rest = Fit.ToData(resumed, data, options with { ResumeFrom = checkpoint });
        Assert.Equal(full.Losses, rest.Losses);
        Assert.Equal(full.Validation, rest.Validation);
        Assert.Equal(Parameters(reference), Parameters(resumed));

        using var other = Flows.RealNvp(2, 4, new[] { 16 }, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => Fit.ToData(other, data, options with { DequantizeColumns = new[] { 0 }, ResumeFrom = checkpoint }));
        Assert.Contains("dequantizeColumns", e.Message);
    }

    [Fact]
    public void Should_Write_Checkpoints_That_Load_As_Flows()
    {
        using var data = Data();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1);
        string checkpoint = Path.Combine(folder, "ckpt.nflow");
        Fit.ToData(flow, data, new FitOptions { Iterations = 20, BatchSize = 100, CheckpointPath = checkpoint, CheckpointInterval = 5 });
        using var loaded = Flow.Load(checkpoint);
        using var x = data.narrow(0, 0, 10);
        using var expected = flow.LogProb(x);
        using var actual = loaded.LogProb(x);
        Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
        Assert.Equal(20, ModelFile.ReadMetadata(checkpoint)!["iteration"]!.GetValue<int>());
    }

    [Fact]
    public void Should_Name_The_Setting_That_Differs_When_Resuming()
    {
        using var data = Data();
        string checkpoint = Path.Combine(folder, "mismatch.nflow");
        using (var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1))
            Fit.ToData(flow, data, new FitOptions { Iterations = 10, BatchSize = 100, CheckpointPath = checkpoint });
        using var other = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(other, data, new FitOptions { Iterations = 10, BatchSize = 50, ResumeFrom = checkpoint }));
        Assert.Contains("batchSize", error.Message);
        Assert.Contains(checkpoint, error.Message);

        using var bigger = Flows.RealNvp(2, 2, new[] { 16 }, seed: 1);
        var mismatch = Assert.Throws<ModelFileException>(() => Fit.ToData(bigger, data, new FitOptions { Iterations = 10, BatchSize = 100, ResumeFrom = checkpoint }));
        Assert.StartsWith(checkpoint, mismatch.Message);
    }
}
