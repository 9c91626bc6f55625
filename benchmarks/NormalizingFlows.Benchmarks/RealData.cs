using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using NormalizingFlows.Data;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>Settings shared by the three real-data runs.</summary>
internal sealed record RealDataSettings(bool Quick, long Seed, int Threads, string DataFolder, string? SamplesPng, int? Epochs)
{
    /// <summary>The most epochs a flow trains for: <see cref="Epochs"/> when given, else the run's own choice.</summary>
    public int MaxEpochs(int quick, int full) => Epochs ?? (Quick ? quick : full);
}

/// <summary>One model's line in a real-data result.</summary>
internal sealed record ModelScore(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("test")] double Test,
    [property: JsonPropertyName("validation_nll")] double? ValidationNll,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("iterations")] int? Iterations,
    [property: JsonPropertyName("best_iteration")] int? BestIteration,
    [property: JsonPropertyName("stopped_early")] bool? StoppedEarly,
    [property: JsonPropertyName("train_seconds")] double TrainSeconds);

/// <summary>What a real-data run prints (one JSON line).</summary>
internal sealed record RealDataResult(
    [property: JsonPropertyName("run")] string Run,
    [property: JsonPropertyName("quick")] bool Quick,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("dimensions")] long Dimensions,
    [property: JsonPropertyName("train_rows")] long TrainRows,
    [property: JsonPropertyName("validation_rows")] long ValidationRows,
    [property: JsonPropertyName("test_rows")] long TestRows,
    [property: JsonPropertyName("models")] IReadOnlyList<ModelScore> Models,
    [property: JsonPropertyName("notes")] string Notes,
    [property: JsonPropertyName("seconds")] double Seconds)
{
    /// <summary>Where the digits run wrote its sheet of samples; null when it wrote none.</summary>
    [JsonPropertyName("samples_png")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SamplesPng { get; init; }
}

/// <summary>Helpers of the real-data runs: where the data is, splitting like <see cref="Fit"/>, training with early stopping,
/// evaluating in chunks.</summary>
internal static class RealData
{
    /// <summary>The shared data folder: <c>../shared/data</c> beside the repository that holds these binaries.</summary>
    public static string DefaultDataFolder() => RepositoryPath.Of("..", "shared", "data");

    /// <summary>The full path of a data file; a clear error when it is missing.</summary>
    public static string File(RealDataSettings settings, string name)
    {
        string path = Path.Combine(settings.DataFolder, name);
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"The data file {name} is missing: expected it at {path} (set --data to the folder that holds it).", path);
        return path;
    }

    /// <summary>
    /// The rows <see cref="Fit.ToData(Distribution, Tensor, FitOptions, IProgress{TrainingProgress}, System.Threading.CancellationToken)"/>
    /// holds out for validation when given <paramref name="pool"/> with <paramref name="fraction"/> and <paramref name="seed"/>
    /// (its documented rule: a permutation from a generator seeded with the fit's seed, the first <c>round(rows * fraction)</c>
    /// rows held out), so that baselines and standardisations see exactly the flow's training rows.
    /// <see cref="TrainFlow"/> checks that the fit's best validation loss is the loss of these rows.
    /// </summary>
    public static (Tensor Train, Tensor Validation) SplitLikeFit(Tensor pool, double fraction, long seed)
    {
        long rows = pool.shape[0];
        long held = (long)Math.Round(rows * fraction);
        using var generator = new Generator((ulong)seed);
        using var permutation = torch.randperm(rows, ScalarType.Int64, generator: generator);
        using var validationRows = permutation.narrow(0, 0, held);
        using var trainingRows = permutation.narrow(0, held, rows - held);
        return (pool.index_select(0, trainingRows), pool.index_select(0, validationRows));
    }

    /// <summary>
    /// A seeded 70/15/15 <see cref="DataSplit"/> of <paramref name="data"/>: its training and validation rows pooled (the pool
    /// a fit re-splits with <c>Fraction</c> as its <see cref="FitOptions.ValidationFraction"/>), that pool split the way the fit
    /// will (<see cref="SplitLikeFit"/>), and the test rows (<c>Split.Test</c>, owned by <c>Split</c>).
    /// </summary>
    public static (DataSplit Split, Tensor Pool, double Fraction, Tensor Train, Tensor Validation) PoolAndSplit(Tensor data, long seed)
    {
        var split = DataSplit.Create(data, validationFraction: 0.15, testFraction: 0.15, seed: seed);
        var pool = torch.cat(new[] { split.Train, split.Validation }, 0);
        double fraction = (double)split.Validation.shape[0] / pool.shape[0];
        var (train, validation) = SplitLikeFit(pool, fraction, seed);
        return (split, pool, fraction, train, validation);
    }

    /// <summary>Mean negative log-likelihood in nats (float64 sum), in inference mode and in chunks.</summary>
    public static double MeanNll(Distribution model, Tensor data, long chunk = 4096)
    {
        bool training = model.training;
        model.eval();
        try
        {
            using var inference = torch.inference_mode();
            double sum = 0;
            long rows = data.shape[0];
            for (long start = 0; start < rows; start += chunk)
            {
                using var scope = torch.NewDisposeScope();
                sum += model.LogProb(data.narrow(0, start, Math.Min(chunk, rows - start))).to(ScalarType.Float64).sum().ToDouble();
            }
            return -sum / rows;
        }
        finally
        {
            if (training) model.train();
        }
    }

    /// <summary>Trains a flow on <paramref name="pool"/> (training plus validation rows, split by the fit) with early stopping,
    /// puts back the best state, and checks that the fit's validation rows are <paramref name="validation"/>.</summary>
    public static FitResult TrainFlow(Distribution flow, Tensor pool, Tensor validation, FitOptions options)
    {
        var result = Fit.ToData(flow, pool, options);
        if (result.SkippedSteps > 0) Console.Error.WriteLine($"note: {result.SkippedSteps} steps skipped (non-finite loss or gradient).");
        double check = MeanNll(flow, validation);
        if (Math.Abs(check - result.Best.Loss) > 1e-3 * Math.Max(1, Math.Abs(check)))
            throw new InvalidOperationException(
                $"The fit's best validation loss ({result.Best.Loss}) is not the loss of the rows held out here ({check}): the validation split differs from Fit's.");
        return result;
    }

    /// <summary>The score line of a trained flow.</summary>
    public static ModelScore FlowScore(string name, Distribution flow, FitResult fit, double test) =>
        new(name, Math.Round(test, 4), Math.Round(fit.Best.Loss, 4), Parameters(flow), fit.Iterations, fit.Best.Iteration, fit.StoppedEarly,
            Math.Round(fit.Elapsed.TotalSeconds, 1));

    /// <summary>The score line of a closed-form baseline.</summary>
    public static ModelScore BaselineScore(string name, long parameters, double validationNll, double test, double seconds) =>
        new(name, Math.Round(test, 4), Math.Round(validationNll, 4), parameters, null, null, null, Math.Round(seconds, 2));

    /// <summary>Trainable parameter count.</summary>
    public static long Parameters(Distribution model) => model.parameters().Sum(p => p.numel());

    /// <summary>Times <paramref name="fit"/>.</summary>
    public static (T Model, double Seconds) Timed<T>(Func<T> fit)
    {
        var clock = Stopwatch.StartNew();
        var model = fit();
        return (model, clock.Elapsed.TotalSeconds);
    }

    public static string ToJson(RealDataResult result) => JsonSerializer.Serialize(result);
}
