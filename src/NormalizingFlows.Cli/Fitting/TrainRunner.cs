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
                : DataInput.Read(settings.DataPath, dtype, settings.Limits);
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

            // Discrete-looking columns: a warning with the counts; with --dequantize uniform, the integer-valued columns get noise per step.
            var dequantized = DequantizedColumns(settings, rows, columns, context.Error);
            string scale = BitsPerDimScale.Of(features, dequantized.Count, settings.Patches is not null);
            var preset = FlowCatalog.Get(settings.Flow);
            var inner = preset.Create(new PresetOptions(features, Layers: settings.Layers, HiddenFeatures: settings.Hidden, Seed: settings.Seed));
            inner.to(dtype);
            Flow flow = settings.Standardize ? inner.Standardized(dequantized.Count > 0 ? Dequantized(rows, dequantized, settings.Seed + 3) : rows) : inner;
            flow.to(device);
            var data = rows.to(device);
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"train {preset.Name} on {settings.DataPath}: {rows.size(0)} rows x {features} columns{(settings.Standardize ? " (standardised)" : "")}" +
                $"{(dequantized.Count > 0 ? $", {dequantized.Count} integer columns dequantised (+ U[0, 1) per step)" : "")}, " +
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
                DequantizeColumns = dequantized.Count > 0 ? dequantized : null,
            };
            long trainRows = Fit.SplitSizes(rows.size(0), settings.ValidationFraction).Training;
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
                        return FlowFitting.ToRows(preset.Name, flow, data, options, recorder, cancellationToken);
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
            void WriteResults(double trainNll, double validationNll, double trainNllStandardError = double.NaN)
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
                        ["dequantize"] = dequantized.Count > 0 ? "uniform" : "none",
                        ["dequantized_columns"] = new JsonArray(dequantized.Select(c => (JsonNode?)c).ToArray()),
                        ["bits_per_dim_scale"] = scale,
                        ["fit"] = new JsonObject
                        {
                            ["completed_steps"] = fit.Iterations,
                            ["skipped_steps"] = fit.SkippedSteps,
                            ["training_rows"] = fit.TrainingRows,
                            ["validation_rows"] = fit.ValidationRows,
                            ["best_step"] = fit.Validation.Count > 0 ? fit.Best.Iteration : null,
                            ["restored_best"] = fit.RestoredBest,
                        },
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
                    ["training_rows"] = fit.TrainingRows,
                    ["validation_rows"] = fit.ValidationRows,
                    ["patience"] = settings.Patience,
                    ["stopped_early"] = fit.StoppedEarly,
                    ["restored_best"] = fit.RestoredBest,
                    ["best_iteration"] = fit.Validation.Count > 0 ? fit.Best.Iteration : null,
                    ["best_step_restored"] = fit.RestoredBest ? fit.Best.Iteration : null,
                    ["best_validation_nll"] = Finite(fit.Best.Loss),
                    ["final_loss"] = Finite(fit.FinalLoss),
                    ["train_nll"] = Finite(trainNll),
                    ["train_bits_per_dim"] = Finite(BitsPerDimScale.Value(scale, trainNll, features)),
                    ["train_nll_standard_error"] = Finite(trainNllStandardError),
                    ["exact"] = ExactEvaluation.IsAffordable(flow),
                    ["validation_nll"] = Finite(validationNll),
                    ["validation_bits_per_dim"] = Finite(BitsPerDimScale.Value(scale, validationNll, features)),
                    ["bits_per_dim_scale"] = scale,
                    ["dequantize"] = dequantized.Count > 0 ? "uniform" : "none",
                    ["dequantized_columns"] = new JsonArray(dequantized.Select(c => (JsonNode?)c).ToArray()),
                    ["density_of"] = dequantized.Count > 0 ? "dequantised data: integer columns plus U[0, 1) noise (train_nll: one draw per value, generator seed plus 2; validation: one fixed draw, seed plus 1)"
                        : settings.Patches is not null ? "dequantised pixels (level + u) / 256" : "the data as given",
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
                WriteResults(double.NaN, fit.FinalValidationLoss);
                context.Error.WriteLine($"error: train failed after {fit.Iterations.ToString(CultureInfo.InvariantCulture)} steps: {failure}");
                context.Error.WriteLine($"wrote {RunFiles.Losses} and {RunFiles.Metrics}{(checkpointPath is null ? "" : $" (and the last {CheckpointFileName})")} to {directory}");
                return ExitCodes.Failure;
            }
            if (fit.Cancelled)
            {
                // What a first Ctrl+C promised, on disk before the evaluation: a second Ctrl+C from here on ends the run at once.
                WriteResults(double.NaN, fit.FinalValidationLoss);
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
            // On the training rows only (the fit's own split), dequantised once when the fit added noise; exact where affordable,
            // otherwise the mean of repeated estimates and its standard error. The validation NLL is the fit's.
            MetricEstimate trainEstimate;
            using (var split = torch.NewDisposeScope())
            {
                var (trainingRows, _) = Fit.SplitRows(data, options);
                trainEstimate = Metrics.NegativeLogLikelihoodEstimate(flow, dequantized.Count > 0 ? Dequantized(trainingRows, dequantized, settings.Seed + 2) : trainingRows);
            }
            double trainNll = trainEstimate.Value;
            double validationNll = fit.FinalValidationLoss;
            WriteResults(trainNll, validationNll, trainEstimate.StandardError);
            string? report = TrainReport.TryWrite(directory, settings.Command, flow, data, columns, fit, settings.Seed, context.Error);
            string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
            KeyValueTable.Write(console, new[]
            {
                ("flow", preset.Name),
                ("steps", $"{fit.Iterations.ToString(CultureInfo.InvariantCulture)} of {steps.ToString(CultureInfo.InvariantCulture)}" +
                          (fit.StoppedEarly ? " (early stop)" : fit.Cancelled ? " (interrupted)" : "")),
                ("skipped steps", $"{fit.SkippedSteps.ToString(CultureInfo.InvariantCulture)} (non-finite loss or gradient)"),
                ("rows", $"{fit.TrainingRows.ToString(CultureInfo.InvariantCulture)} training, {fit.ValidationRows.ToString(CultureInfo.InvariantCulture)} validation"),
                ("train time", $"{fit.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"),
                ("best validation NLL", fit.Validation.Count > 0 ? $"{F(fit.Best.Loss)} nats (step {fit.Best.Iteration.ToString(CultureInfo.InvariantCulture)})" : "n/a"),
                ("restored step", fit.RestoredBest ? $"{fit.Best.Iteration.ToString(CultureInfo.InvariantCulture)} (best validation)" : "none (last step kept)"),
                ("training NLL", $"{trainEstimate.Format("F4")} nats, training rows only; {BitsPerDimScale.Text(scale, trainNll, features)}"),
                ("validation NLL", fit.ValidationRows > 0 ? $"{F(validationNll)} nats, final model; {BitsPerDimScale.Text(scale, validationNll, features)}" : "n/a"),
                ("bits/dim scale", BitsPerDimScale.Describe(scale)),
                ("density of", dequantized.Count > 0 ? $"dequantised data ({dequantized.Count} integer columns + U[0, 1))" : settings.Patches is not null ? "dequantised pixels" : "the data as given"),
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

    /// <summary>The columns to dequantise (none without <c>--dequantize uniform</c>, and never for image patches), after printing the
    /// warning about discrete-looking columns.</summary>
    /// <exception cref="ArgumentException"><c>--dequantize uniform</c> and no column holds only integers.</exception>
    private static IReadOnlyList<int> DequantizedColumns(TrainSettings settings, torch.Tensor rows, IReadOnlyList<string> columns, TextWriter error)
    {
        if (settings.Patches is not null) return Array.Empty<int>();
        var counts = DiscreteColumns.Count(rows);
        DiscreteDataWarning.Write(error, counts, columns, settings.Dequantize);
        if (!settings.Dequantize) return Array.Empty<int>();
        var integer = counts.Where(c => c.IntegerValued).Select(c => c.Column).ToArray();
        if (integer.Length == 0)
            throw new ArgumentException($"--dequantize uniform: no column of {settings.DataPath} holds only integers; dequantisation adds U[0, 1) to integer values.");
        return integer;
    }

    /// <summary>One seeded draw of the dequantisation noise on <paramref name="columns"/>.</summary>
    private static torch.Tensor Dequantized(torch.Tensor rows, IReadOnlyList<int> columns, long seed)
    {
        using var generator = new torch.Generator(unchecked((ulong)seed));
        return DiscreteColumns.Dequantize(rows, columns, generator);
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
