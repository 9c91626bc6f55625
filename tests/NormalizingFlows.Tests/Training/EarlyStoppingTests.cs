using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Support;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>Epochs, validation, early stopping, restore-best, clipping, failure after repeated non-finite steps, cancellation.</summary>
[Collection(TrainingCollection.Name)]
public sealed class EarlyStoppingTests
{
    /// <summary>80 banana rows: a 64-unit RealNVP overfits them within a few hundred steps at a high learning rate.</summary>
    private static Tensor SmallData()
    {
        using var generator = new Generator(11);
        return new Banana().Sample(80, generator);
    }

    /// <summary>The validation rows the fit holds out, recomputed as documented: the first rows of a permutation seeded with Seed.</summary>
    private static Tensor ValidationRows(Tensor data, FitOptions options)
    {
        long rows = data.shape[0];
        long held = (long)Math.Round(rows * options.ValidationFraction);
        using var generator = new Generator((ulong)options.Seed);
        using var permutation = torch.randperm(rows, ScalarType.Int64, generator: generator);
        using var first = permutation.narrow(0, 0, held);
        return data.index_select(0, first);
    }

    private static readonly FitOptions Overfitting = new()
    {
        Iterations = 3000, BatchSize = 40, LearningRate = 1e-2, Seed = 3, ValidationFraction = 0.5, ValidationInterval = 10, Patience = 8,
    };

    [Fact]
    public void Should_Stop_Early_And_Restore_Best_Weights_When_Validation_Loss_Rises()
    {
        using var data = SmallData();
        using var validation = ValidationRows(data, Overfitting);
        using var flow = Flows.RealNvp(2, 8, new[] { 64, 64 }, seed: 2);
        var result = Fit.ToData(flow, data, Overfitting);

        Assert.True(result.StoppedEarly, $"Ran all {result.Iterations} steps; validation: {string.Join(", ", result.Validation.Select(v => v.Loss.ToString("F2")))}");
        Assert.True(result.Iterations < Overfitting.Iterations);
        Assert.True(result.RestoredBest);
        // The last Patience evaluations did not improve on the best one, which came Patience evaluations before the end.
        Assert.Equal(result.Iterations - Overfitting.Patience!.Value * Overfitting.ValidationInterval!.Value, result.Best.Iteration);
        Assert.All(result.Validation.Where(v => v.Iteration > result.Best.Iteration), v => Assert.True(v.Loss >= result.Best.Loss));
        Assert.True(result.Validation[^1].Loss > result.Best.Loss + 0.05, "the validation loss should have risen by the end");
        // The model now holds the best weights: its validation loss is the best one, not the last one.
        double now = Metrics.NegativeLogLikelihood(flow, validation);
        Assert.Equal(result.Best.Loss, now, 4);
    }

    [Fact]
    public void Should_Keep_Last_Weights_When_RestoreBest_Is_Off()
    {
        using var data = SmallData();
        using var validation = ValidationRows(data, Overfitting);
        using var flow = Flows.RealNvp(2, 8, new[] { 64, 64 }, seed: 2);
        var result = Fit.ToData(flow, data, Overfitting with { RestoreBest = false });
        Assert.False(result.RestoredBest);
        // Same weights give the same loss up to float32 rounding of the mean (relative 1e-6; other weights differ by far more).
        Assert.Equal(result.Validation[^1].Loss, Metrics.NegativeLogLikelihood(flow, validation), Math.Abs(result.Validation[^1].Loss) * 1e-6);
    }

    [Fact]
    public void Should_Run_Epochs_Of_Rows_Over_Batch_Steps_And_Report_Them()
    {
        using var generator = new Generator(1);
        using var data = new Banana().Sample(1000, generator);
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 2);
        var reports = new List<TrainingProgress>();
        var progress = new SynchronousProgress(reports.Add);
        var result = Fit.ToData(flow, data, new FitOptions { Epochs = 3, BatchSize = 300, ValidationFraction = 0.1, ProgressInterval = 1 }, progress);
        // 900 training rows / 300 = 3 steps per epoch; one validation loss per epoch.
        Assert.Equal(9, result.Iterations);
        Assert.Equal(new[] { 3, 6, 9 }, result.Validation.Select(v => v.Iteration));
        Assert.Equal(new[] { 1, 1, 1, 2, 2, 2, 3, 3, 3 }, reports.Select(r => r.Epoch));
        Assert.True(double.IsNaN(reports[1].ValidationLoss));
        Assert.Equal(result.Validation[0].Loss, reports[2].ValidationLoss);
    }

    [Fact]
    public void Should_Report_The_Scheduled_Learning_Rate()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 2);
        var rates = new List<double>();
        var options = new FitOptions { Iterations = 6, BatchSize = 32, LearningRate = 1e-2, WarmupIterations = 2, Schedule = LearningRateSchedule.Step(2, 0.5), ProgressInterval = 1 };
        Fit.ToData(flow, new Banana(), options, new SynchronousProgress(p => rates.Add(p.LearningRate)));
        Assert.Equal(new[] { 5e-3, 1e-2, 1e-2, 1e-2, 5e-3, 5e-3 }, rates);
    }

    [Fact]
    public void Should_Hold_Parameters_Almost_Still_When_Gradient_Is_Clipped_To_Nearly_Zero()
    {
        // Adam divides by the gradient's scale, so clipping shows only when the clipped gradient nears Adam's epsilon (1e-8):
        // then each step moves a parameter by about lr * |g| / 1e-8 instead of about lr.
        double Movement(double? clip)
        {
            using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 2);
            var before = Flatten(flow);
            Fit.ToData(flow, new Banana(), new FitOptions { Iterations = 5, BatchSize = 64, LearningRate = 1e-2, ClipGradientNorm = clip });
            return before.Zip(Flatten(flow), (a, b) => Math.Abs(a - b)).Max();
        }
        double free = Movement(null), clipped = Movement(1e-12);
        Assert.True(free > 1e-2, $"unclipped movement {free}");
        Assert.True(clipped < 1e-5, $"clipped movement {clipped}");
    }

    [Fact]
    public void Should_Fail_With_Partial_Result_When_Too_Many_Steps_In_A_Row_Are_Not_Finite()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 2);
        var before = Flatten(flow);
        int calls = 0;
        Tensor Sampler(long count, Generator g)
        {
            var x = torch.randn(new[] { count, 2L }, generator: g);
            if (++calls > 3) x[0, 0] = torch.tensor(float.NaN);
            return x;
        }
        var error = Assert.Throws<FitFailedException>(() => Fit.ToData(flow, Sampler, new FitOptions { Iterations = 100, BatchSize = 16, MaxConsecutiveSkippedSteps = 5 }));
        Assert.Contains("iteration 8", error.Message);
        Assert.Contains("5 steps in a row", error.Message);
        Assert.Equal(8, error.Result.Iterations);
        Assert.Equal(5, error.Result.SkippedSteps);
        Assert.True(Flatten(flow).All(double.IsFinite));
        Assert.NotEqual(before, Flatten(flow)); // the three good steps were kept
    }

    [Fact]
    public void Should_Stop_Cleanly_And_Keep_Best_When_Cancelled()
    {
        using var data = SmallData();
        using var validation = ValidationRows(data, Overfitting);
        using var flow = Flows.RealNvp(2, 8, new[] { 64, 64 }, seed: 2);
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress(p => { if (p.Iteration == 400) cancellation.Cancel(); });
        var result = Fit.ToData(flow, data, Overfitting with { Patience = null, ProgressInterval = 10 }, progress, cancellation.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(400, result.Iterations);
        Assert.True(result.RestoredBest);
        // Same weights give the same loss up to float32 rounding of the mean (relative 1e-6; other weights differ by far more).
        Assert.Equal(result.Best.Loss, Metrics.NegativeLogLikelihood(flow, validation), Math.Abs(result.Best.Loss) * 1e-6);
    }

    [Fact]
    public void Should_Draw_A_Fixed_Validation_Set_From_A_Sampler()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 16 }, seed: 2);
        var options = new FitOptions { Iterations = 200, BatchSize = 128, LearningRate = 5e-3, ValidationSize = 2000, ValidationInterval = 50 };
        var result = Fit.ToData(flow, new Banana(), options);
        Assert.Equal(new[] { 50, 100, 150, 200 }, result.Validation.Select(v => v.Iteration));
        Assert.True(result.Validation[^1].Loss < result.Validation[0].Loss, "validation loss should fall while learning fresh samples");
        // The set is the sampler's first draw with a generator seeded Seed + 1.
        using var generator = new Generator((ulong)(options.Seed + 1));
        using var rows = new Banana().Sample(2000, generator);
        Assert.Equal(result.Best.Loss, Metrics.NegativeLogLikelihood(flow, rows), 4);
    }

    [Fact]
    public void Should_Explain_Which_Option_Does_Not_Apply()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        using var data = torch.randn(100, 2);
        Assert.Contains("ValidationSize", Assert.Throws<ArgumentException>(() => Fit.ToData(flow, new Banana(), new FitOptions { ValidationFraction = 0.2 })).Message);
        Assert.Contains("ValidationFraction", Assert.Throws<ArgumentException>(() => Fit.ToData(flow, data, new FitOptions { ValidationSize = 10 })).Message);
        Assert.Contains("validation set", Assert.Throws<ArgumentException>(() => Fit.ToData(flow, data, new FitOptions { Patience = 3 })).Message);
        Assert.Contains("Iterations", Assert.Throws<ArgumentException>(() => Fit.ToData(flow, new Banana(), new FitOptions { Epochs = 3 })).Message);
        Assert.Contains("training rows", Assert.Throws<ArgumentException>(() => Fit.ToData(flow, data.narrow(0, 0, 1), new FitOptions { ValidationFraction = 0.5 })).Message);
    }

    private static double[] Flatten(Distribution model) =>
        model.parameters().SelectMany(p => p.detach().to(ScalarType.Float64).reshape(-1).data<double>().ToArray()).ToArray();
}
