using System;
using System.Collections.Generic;
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

    /// <summary>The names of the files a run writes in its output folder.</summary>
    public static readonly string[] OutputFileNames =
    [
        ModelFileName, CheckpointFileName, System.IO.Path.GetFileName(ResumeRecord.PathFor(CheckpointFileName)), RunFiles.Metrics, RunFiles.Losses, RunFiles.Report,
        .. TrainReport.FigureNames,
    ];

    /// <summary>Runs the fit described by <paramref name="settings"/>.</summary>
    /// <returns>An exit code: <see cref="ExitCodes.Ok"/>; <see cref="ExitCodes.Failure"/> (a fit that failed after it started
    /// writes losses.csv and metrics.json first); <see cref="ExitCodes.Usage"/> when <c>--resume</c> names a checkpoint of other
    /// data or options; <see cref="ExitCodes.Interrupted"/>.</returns>
    public static int Run(TrainSettings settings, CliContext context, CancellationToken cancellationToken)
    {
        var console = context.CreateConsole();
        RunFolder? folder = null;
        try
        {
            var started = DateTime.UtcNow;
            var device = DeviceChoice.Resolve(settings.Device);
            var dtype = DeviceChoice.Dtype(settings.Dtype);
            string stem = Path.GetFileName(settings.DataPath).Split('.')[0];
            // First: an output folder that cannot be written fails now, before the data is read or a step is trained.
            folder = RunFolder.Prepare(settings.OutputDirectory ?? RunFiles.DefaultDirectory(Directory.GetCurrentDirectory(), "train-" + stem, DateTime.Now));
            string directory = folder.Path;

            using var scope = torch.NewDisposeScope();
            var (rows, columns) = settings.Patches is { } patches
                ? ImagePatchInput.Read(settings.DataPath, patches.Size, patches.Count, settings.Seed, dtype)
                : DataInput.Read(settings.DataPath, dtype);
            int features = (int)rows.size(1);
            string? checkpointPath = settings.CheckpointEvery is null ? null : Path.Combine(directory, CheckpointFileName);
            var record = settings.ResumeFrom is null && checkpointPath is null ? null : ResumeRecord.Of(settings,
                DataFingerprint.Of(settings.DataPath, settings.Patches is null ? null : ImagePatchInput.Files(settings.DataPath)));
            if (settings.ResumeFrom is { } resumeFrom)
            {
                var saved = ResumeRecord.Read(resumeFrom);
                if (saved is null)
                    context.Error.WriteLine($"warning: {resumeFrom} has no run record ({Path.GetFileName(ResumeRecord.PathFor(resumeFrom))}) beside it, " +
                                            "so the data file and options cannot be checked against it.");
                else if (saved.Differences(record!) is { Count: > 0 } differences)
                    throw new ResumeMismatchException(resumeFrom, differences);
            }

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
                CheckpointPath = checkpointPath,
                CheckpointInterval = settings.CheckpointEvery ?? 0,
                ResumeFrom = settings.ResumeFrom,
            };
            long trainRows = settings.ValidationFraction > 0 ? rows.size(0) - (long)Math.Round(rows.size(0) * settings.ValidationFraction) : rows.size(0);
            int steps = (int)Math.Min(int.MaxValue, (long)settings.Epochs * Math.Max(1, trainRows / Math.Min(settings.BatchSize, trainRows)));
            options = options with { ProgressInterval = TrainingProgressView.ReportInterval(steps, context.Interactive) };
            // The data's fingerprint and the options, beside the checkpoint, for --resume to check.
            if (checkpointPath is not null) record!.Write(checkpointPath);

            FitResult fit;
            string? failure = null;
            // The fit reports every step to the recorder, which keeps the losses and passes every interval-th report on.
            int interval = options.ProgressInterval;
            options = options with { ProgressInterval = 1 };
            LossRecorder? recorder = null;
            try
            {
                fit = TrainingProgressView.Run(context, console, $"training {preset.Name}", steps, progress =>
                {
                    recorder = new LossRecorder(progress, interval);
                    try
                    {
                        return Fit.ToData(flow, data, options, recorder, cancellationToken);
                    }
                    finally
                    {
                        recorder.Flush();
                    }
                });
            }
            catch (FitFailedException e)
            {
                // Training started and failed: keep what it did (the losses so far; the library wrote the last checkpoint).
                fit = e.Result;
                failure = e.Message;
            }
            catch (Exception e) when (e is not OutOfMemoryException && recorder is { Losses.Count: > 0 })
            {
                // An unexpected error after training started: the losses so far and a note of the failure, then the error.
                WriteLossesSoFar(directory, recorder.Losses, settings.Command, e.Message);
                throw;
            }
            bool modelSaved = false;
            // The model (not for a failed fit), losses.csv and metrics.json (train_nll null until it is computed).
            void WriteResults(double trainNll, double trainNllStandardError = double.NaN)
            {
                if (failure is null && !modelSaved)
                {
                    var metadata = new JsonObject
                    {
                        ["command"] = settings.Command,
                        ["data"] = Path.GetFullPath(settings.DataPath),
                        ["columns"] = new JsonArray(columns.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                        ["flow"] = preset.Name,
                        ["standardized"] = settings.Standardize,
                    };
                    flow.Save(Path.Combine(directory, ModelFileName), metadata);
                    modelSaved = true;
                }
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
                    ["train_nll_standard_error"] = Finite(trainNllStandardError),
                    ["exact"] = ExactEvaluation.IsAffordable(flow),
                    ["skipped_steps"] = fit.SkippedSteps,
                    ["train_seconds"] = fit.Elapsed.TotalSeconds,
                    ["seed"] = settings.Seed,
                    ["device"] = settings.Device,
                    ["dtype"] = settings.Dtype,
                    ["cancelled"] = fit.Cancelled,
                    ["failed"] = failure is not null,
                    ["error"] = failure,
                    ["started_utc"] = started.ToString("O", CultureInfo.InvariantCulture),
                };
                RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), fit.Losses, fit.Validation);
                RunFiles.WriteJson(Path.Combine(directory, RunFiles.Metrics), metrics);
            }

            if (failure is not null)
            {
                WriteResults(double.NaN);
                context.Error.WriteLine($"error: train failed after {fit.Iterations.ToString(CultureInfo.InvariantCulture)} steps: {failure}");
                context.Error.WriteLine($"wrote {RunFiles.Losses} and {RunFiles.Metrics}{(checkpointPath is null ? "" : $" (and the last {CheckpointFileName})")} to {directory}");
                return ExitCodes.Failure;
            }
            if (fit.Cancelled)
            {
                // What a first Ctrl+C promised, on disk before the evaluation: a second Ctrl+C from here on ends the run at once.
                WriteResults(double.NaN);
                context.ResultsWritten();
                string saved = fit.RestoredBest ? "the best model so far" : "what was trained";
                if (context.Hurry.IsCancellationRequested)
                {
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"interrupted after {fit.Iterations} of {steps} steps: wrote {saved}, {RunFiles.Losses} and {RunFiles.Metrics} (no evaluation) to {directory}"));
                    return ExitCodes.Interrupted;
                }
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"interrupted after {fit.Iterations} of {steps} steps: wrote {saved}, {RunFiles.Losses} and {RunFiles.Metrics}; evaluating"));
            }
            // Exact where affordable; otherwise the mean of repeated estimates and its standard error.
            var trainEstimate = Metrics.NegativeLogLikelihoodEstimate(flow, data);
            double trainNll = trainEstimate.Value;
            WriteResults(trainNll, trainEstimate.StandardError);
            string? report = TrainReport.TryWrite(directory, settings.Command, flow, data, columns, fit, settings.Seed, context.Error);
            string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
            KeyValueTable.Write(console, new[]
            {
                ("flow", preset.Name),
                ("steps", $"{fit.Iterations.ToString(CultureInfo.InvariantCulture)} of {steps.ToString(CultureInfo.InvariantCulture)}" +
                          (fit.StoppedEarly ? " (early stop)" : fit.Cancelled ? " (interrupted)" : "")),
                ("skipped steps", fit.SkippedSteps.ToString(CultureInfo.InvariantCulture)),
                ("train time", $"{fit.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"),
                ("best validation NLL", fit.Validation.Count > 0 ? $"{F(fit.Best.Loss)} nats (step {fit.Best.Iteration.ToString(CultureInfo.InvariantCulture)})" : "n/a"),
                ("training NLL", $"{trainEstimate.Format("F4")} nats ({F(Metrics.BitsPerDimension(trainNll, features))} bits/dim)"),
                ("log-densities", ExactEvaluation.IsAffordable(flow) ? "exact" : "stochastic estimates (residual blocks too wide for exact log-dets)"),
            });
            context.Output.WriteLine($"wrote {ModelFileName}, {RunFiles.Metrics}, {RunFiles.Losses}{(report is null ? "" : $" and {RunFiles.Report}")} to {directory}");
            return fit.Cancelled ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        catch (ResumeMismatchException e)
        {
            folder?.RemoveIfEmpty();
            context.Error.WriteLine($"error: train: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            folder?.RemoveIfEmpty();
            context.Error.WriteLine($"error: train failed{(folder is null ? "" : $" (output folder {folder.Path})")}: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Writes losses.csv (the recorded steps) and a metrics.json that says the run failed; errors here are dropped
    /// (the training error is the one to report).</summary>
    private static void WriteLossesSoFar(string directory, IReadOnlyList<(int Iteration, double Loss)> losses, string command, string error)
    {
        try
        {
            RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), losses);
            RunFiles.WriteJson(Path.Combine(directory, RunFiles.Metrics), new JsonObject
            {
                ["command"] = command,
                ["completed_steps"] = losses[^1].Iteration,
                ["failed"] = true,
                ["error"] = error,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
