using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using NormalizingFlows.Cli.Inference;
using NormalizingFlows.Cli.Output;
using NormalizingFlows.Cli.Rendering;
using NormalizingFlows.Cli.Runtime;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Training;
using TorchSharp;

namespace NormalizingFlows.Cli.Fitting;

/// <summary>Fits a catalogue flow to the rows of a data file by maximum likelihood and writes the model, metrics and losses.</summary>
internal static class TrainRunner
{
    /// <summary>The model file a run writes.</summary>
    public const string ModelFileName = "model" + NormalizingFlows.Serialization.ModelFile.Extension;

    /// <summary>The checkpoint file a run writes with <c>--checkpoint-every</c>.</summary>
    public const string CheckpointFileName = "checkpoint" + NormalizingFlows.Serialization.ModelFile.Extension;

    /// <summary>Runs the fit described by <paramref name="settings"/>.</summary>
    /// <returns>An exit code: <see cref="ExitCodes.Ok"/>, <see cref="ExitCodes.Failure"/> or <see cref="ExitCodes.Interrupted"/>.</returns>
    public static int Run(TrainSettings settings, CliContext context, CancellationToken cancellationToken)
    {
        var console = context.CreateConsole();
        string? directory = null;
        try
        {
            var started = DateTime.UtcNow;
            var device = DeviceChoice.Resolve(settings.Device);
            var dtype = DeviceChoice.Dtype(settings.Dtype);
            string stem = Path.GetFileName(settings.DataPath).Split('.')[0];
            directory = settings.OutputDirectory ?? RunFiles.DefaultDirectory(Directory.GetCurrentDirectory(), "train-" + stem, DateTime.Now);
            Directory.CreateDirectory(directory);

            using var scope = torch.NewDisposeScope();
            var (rows, columns) = settings.Patches is { } patches
                ? ImagePatchInput.Read(settings.DataPath, patches.Size, patches.Count, settings.Seed, dtype)
                : DataInput.Read(settings.DataPath, dtype);
            int features = (int)rows.size(1);
            var preset = FlowCatalog.Get(settings.Flow);
            var inner = preset.Create(new PresetOptions(features, Layers: settings.Layers, HiddenFeatures: settings.Hidden, Seed: settings.Seed));
            inner.to(dtype);
            Flow flow = settings.Standardize ? inner.Standardized(rows) : inner;
            flow.to(device);
            var data = rows.to(device);
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"train {preset.Name} on {settings.DataPath}: {rows.size(0)} rows x {features} columns{(settings.Standardize ? " (standardised)" : "")}, " +
                $"{settings.Epochs} epochs x batch {settings.BatchSize}, validation {settings.ValidationFraction:P0}, seed {settings.Seed}, {settings.Device}/{settings.Dtype}"));
            context.Output.WriteLine($"writing to {directory}");

            var options = new FitOptions
            {
                Epochs = settings.Epochs,
                BatchSize = settings.BatchSize,
                LearningRate = settings.LearningRate,
                Schedule = settings.Cosine ? LearningRateSchedule.Cosine(0.01) : LearningRateSchedule.Constant,
                WarmupIterations = settings.WarmupIterations,
                ClipGradientNorm = settings.ClipGradientNorm,
                ValidationFraction = settings.ValidationFraction,
                Patience = settings.ValidationFraction > 0 ? settings.Patience : null,
                Seed = settings.Seed,
                CheckpointPath = settings.CheckpointEvery is null ? null : Path.Combine(directory, CheckpointFileName),
                CheckpointInterval = settings.CheckpointEvery ?? 0,
                ResumeFrom = settings.ResumeFrom,
            };
            long trainRows = settings.ValidationFraction > 0 ? rows.size(0) - (long)Math.Round(rows.size(0) * settings.ValidationFraction) : rows.size(0);
            int steps = (int)Math.Min(int.MaxValue, (long)settings.Epochs * Math.Max(1, trainRows / Math.Min(settings.BatchSize, trainRows)));
            options = options with { ProgressInterval = TrainingProgressView.ReportInterval(steps, context.Interactive) };

            var fit = TrainingProgressView.Run(context, console, $"training {preset.Name}", steps,
                progress => Fit.ToData(flow, data, options, progress, cancellationToken));
            if (fit.Cancelled)
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"interrupted after {fit.Iterations} of {steps} steps; saving {(fit.RestoredBest ? "the best model so far" : "what was trained")}"));

            double trainNll = Metrics.NegativeLogLikelihood(flow, data);
            var metadata = new JsonObject
            {
                ["command"] = settings.Command,
                ["data"] = Path.GetFullPath(settings.DataPath),
                ["columns"] = new JsonArray(columns.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                ["flow"] = preset.Name,
                ["standardized"] = settings.Standardize,
            };
            flow.Save(Path.Combine(directory, ModelFileName), metadata);

            var metrics = new JsonObject
            {
                ["command"] = settings.Command,
                ["data"] = Path.GetFullPath(settings.DataPath),
                ["rows"] = rows.size(0),
                ["columns"] = features,
                ["flow"] = preset.Name,
                ["flow_parameters"] = flow.parameters().Sum(p => p.numel()),
                ["standardized"] = settings.Standardize,
                ["epochs"] = settings.Epochs,
                ["steps"] = steps,
                ["completed_steps"] = fit.Iterations,
                ["resumed_at"] = fit.ResumedAt,
                ["batch"] = settings.BatchSize,
                ["learning_rate"] = settings.LearningRate,
                ["schedule"] = settings.Cosine ? "cosine" : "constant",
                ["validation_fraction"] = settings.ValidationFraction,
                ["patience"] = settings.Patience,
                ["stopped_early"] = fit.StoppedEarly,
                ["restored_best"] = fit.RestoredBest,
                ["best_iteration"] = fit.Validation.Count > 0 ? fit.Best.Iteration : null,
                ["best_validation_nll"] = Finite(fit.Best.Loss),
                ["final_loss"] = Finite(fit.FinalLoss),
                ["train_nll"] = Finite(trainNll),
                ["train_bits_per_dim"] = Finite(Metrics.BitsPerDimension(trainNll, features)),
                ["skipped_steps"] = fit.SkippedSteps,
                ["train_seconds"] = fit.Elapsed.TotalSeconds,
                ["seed"] = settings.Seed,
                ["device"] = settings.Device,
                ["dtype"] = settings.Dtype,
                ["cancelled"] = fit.Cancelled,
                ["started_utc"] = started.ToString("O", CultureInfo.InvariantCulture),
            };
            RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), fit.Losses, fit.Validation);
            RunFiles.WriteJson(Path.Combine(directory, RunFiles.Metrics), metrics);

            string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
            KeyValueTable.Write(console, new[]
            {
                ("flow", preset.Name),
                ("steps", $"{fit.Iterations.ToString(CultureInfo.InvariantCulture)} of {steps.ToString(CultureInfo.InvariantCulture)}" +
                          (fit.StoppedEarly ? " (early stop)" : fit.Cancelled ? " (interrupted)" : "")),
                ("skipped steps", fit.SkippedSteps.ToString(CultureInfo.InvariantCulture)),
                ("train time", $"{fit.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"),
                ("best validation NLL", fit.Validation.Count > 0 ? $"{F(fit.Best.Loss)} nats (step {fit.Best.Iteration.ToString(CultureInfo.InvariantCulture)})" : "n/a"),
                ("training NLL", $"{F(trainNll)} nats ({F(Metrics.BitsPerDimension(trainNll, features))} bits/dim)"),
            });
            context.Output.WriteLine($"wrote {ModelFileName}, {RunFiles.Metrics} and {RunFiles.Losses} to {directory}");
            return fit.Cancelled ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context.Error.WriteLine($"error: train failed{(directory is null ? "" : $" (output folder {directory})")}: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
