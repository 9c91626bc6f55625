using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using NormalizingFlows.Cli.Output;
using NormalizingFlows.Cli.Rendering;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Plotting;
using NormalizingFlows.Training;
using Spectre.Console;
using TorchSharp;

namespace NormalizingFlows.Cli.Demos;

/// <summary>Trains, evaluates and saves one demo run.</summary>
internal static class DemoRunner
{
    /// <summary>Runs the demo described by <paramref name="settings"/>.</summary>
    /// <returns>An exit code: <see cref="ExitCodes.Ok"/>, <see cref="ExitCodes.Failure"/> or <see cref="ExitCodes.Interrupted"/>.</returns>
    public static int Run(DemoSettings settings, CliContext context, CancellationToken cancellationToken)
    {
        var preset = settings.Preset;
        var console = context.CreateConsole();
        RunFolder? folder = null;
        try
        {
            var started = DateTime.UtcNow;
            // First, so that an unwritable folder fails before minutes of training.
            folder = RunFolder.Prepare(settings.OutputDirectory ?? RunFiles.DefaultDirectory(Directory.GetCurrentDirectory(), preset.Name, DateTime.Now));
            string directory = folder.Path;
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{preset.Name}: {preset.FlowName}, {settings.Iterations} iterations x batch {settings.BatchSize}, seed {settings.Seed}"));
            context.Output.WriteLine($"writing to {directory}");
            if (settings.EvalSamples < DemoPreset.DefaultEvalSamples)
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"note: --eval-samples {settings.EvalSamples} is below {DemoPreset.DefaultEvalSamples}; the KL and test NLL estimates are noisier."));

            var target = preset.CreateTarget();
            using var flow = preset.CreateFlow(settings.Seed);
            var options = new FitOptions
            {
                Iterations = settings.Iterations,
                BatchSize = settings.BatchSize,
                LearningRate = preset.LearningRate,
                Schedule = preset.Schedule ?? LearningRateSchedule.Constant,
                WeightDecay = preset.WeightDecay,
                Optimizer = preset.Optimizer,
                Seed = settings.Seed,
                ProgressInterval = TrainingProgressView.ReportInterval(settings.Iterations, context.Interactive),
            };

            DensitySnapshots? snapshots = null;
            FitResult fit;
            try
            {
                fit = TrainingProgressView.Run(context, console, $"training {preset.Name}", settings.Iterations, progress =>
                {
                    using var scope = torch.NewDisposeScope();
                    snapshots = new DensitySnapshots(flow, target.Bounds, DemoFigures.SnapshotIterations(settings.Iterations),
                        settings.GridSteps ?? DemoSettings.DefaultSnapshotSteps, inner: progress);
                    return Fitting.FlowFitting.ToTarget(preset.FlowName, flow, target, options, snapshots, cancellationToken);
                });
            }
            catch (FitFailedException e)
            {
                // Training started and failed: keep the losses so far.
                RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), e.Result.Losses);
                throw;
            }
            long parameterCount;
            using (torch.NewDisposeScope()) parameterCount = flow.parameters().Sum(p => p.numel());
            bool modelSaved = false;
            string onnxNote = "not written (the run ended before its model was saved)";
            // The model, losses.csv and metrics.json (evaluation fields NaN until there is one).
            RunMetrics WriteResults(MetricEstimate kl, MetricEstimate testNll, double gridIntegral, double evalSeconds)
            {
                if (!modelSaved)
                {
                    using var saveScope = torch.NewDisposeScope();
                    flow.Save(Path.Combine(directory, RunFiles.Model), new System.Text.Json.Nodes.JsonObject
                    {
                        ["command"] = settings.Command,
                        ["target"] = preset.Name,
                        ["flow"] = preset.FlowName,
                    });
                    onnxNote = OnnxModelFile.TryWrite(directory, flow).Note;
                    modelSaved = true;
                }
                double trainSeconds = fit.Elapsed.TotalSeconds;
                var metrics = new RunMetrics
                {
                    Target = target.Name,
                    Demo = preset.Name,
                    Flow = preset.FlowName,
                    FlowParameters = parameterCount,
                    Iterations = settings.Iterations,
                    CompletedIterations = fit.Iterations,
                    Batch = settings.BatchSize,
                    Seed = settings.Seed,
                    EvalSeed = settings.EvalSeed,
                    Optimizer = options.Optimizer.ToString(),
                    LearningRate = options.LearningRate,
                    Schedule = options.Schedule.ToString(),
                    WeightDecay = options.WeightDecay,
                    SkippedSteps = fit.SkippedSteps,
                    TrainSeconds = trainSeconds,
                    IterationsPerSecond = trainSeconds > 0 ? fit.Iterations / trainSeconds : 0,
                    FinalLoss = fit.FinalLoss,
                    TestNll = testNll.Value,
                    Kl = kl.Value,
                    Exact = kl.IsExact && testNll.IsExact,
                    EvalRepeats = kl.Evaluations,
                    TestNllStandardError = testNll.StandardError,
                    KlStandardError = kl.StandardError,
                    EvalSamples = settings.EvalSamples,
                    EvalSeconds = evalSeconds,
                    GridIntegral = gridIntegral,
                    GridBox = new GridBoxJson(preset.Grid.XMin, preset.Grid.XMax, preset.Grid.YMin, preset.Grid.YMax, settings.GridSteps ?? preset.Grid.Steps),
                    Cancelled = fit.Cancelled,
                    StartedUtc = started.ToString("O", CultureInfo.InvariantCulture),
                };
                RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), fit.Losses);
                RunFiles.WriteMetrics(Path.Combine(directory, RunFiles.Metrics), metrics);
                return metrics;
            }

            if (fit.Cancelled)
            {
                // What a first Ctrl+C promised, on disk before the evaluation: a second Ctrl+C from here on ends the run at once.
                var none = new MetricEstimate(double.NaN, double.NaN, ExactEvaluation.IsAffordable(flow), 0);
                WriteResults(none, none, double.NaN, 0);
                context.ResultsWritten();
                if (context.Hurry.IsCancellationRequested)
                {
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"interrupted after {fit.Iterations} of {settings.Iterations} iterations: wrote {RunFiles.Model}, {RunFiles.Losses} and {RunFiles.Metrics} (no evaluation) to {directory}; no figures or report"));
                    return ExitCodes.Interrupted;
                }
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"interrupted after {fit.Iterations} of {settings.Iterations} iterations: wrote {RunFiles.Model}, {RunFiles.Losses} and {RunFiles.Metrics}; evaluating and drawing what was trained"));
            }

            var evalClock = Stopwatch.StartNew();
            MetricEstimate kl, testNll;
            double gridIntegral;
            using (torch.NewDisposeScope())
            {
                // Exact log-dets where affordable; otherwise means of repeated estimates with their standard errors.
                kl = Metrics.KlDivergenceEstimate(target, flow, settings.EvalSamples, settings.EvalSeed);
                testNll = Metrics.TestNegativeLogLikelihoodEstimate(target, flow, settings.EvalSamples, settings.EvalSeed);
                var box = preset.Grid;
                gridIntegral = Metrics.GridIntegral(flow, box.XMin, box.XMax, box.YMin, box.YMax, settings.GridSteps ?? box.Steps);
            }
            evalClock.Stop();
            var metrics = WriteResults(kl, testNll, gridIntegral, evalClock.Elapsed.TotalSeconds);
            if (context.Hurry.IsCancellationRequested) return ExitCodes.Interrupted;

            if (snapshots is not null && snapshots.Snapshots.Count > 0 && snapshots.Snapshots[^1].Iteration < fit.Iterations)
                snapshots.Record(fit.Iterations);
            context.Output.WriteLine("drawing figures");
            IReadOnlyList<(string Path, string Caption)> figures;
            using (torch.NewDisposeScope())
                figures = DemoFigures.Write(directory, target, flow, fit, snapshots!, settings.Seed, Fitting.FlowFitting.IsFlowMatching(preset.FlowName), settings.GridSteps);
            string report = DemoReport.Write(Path.Combine(directory, RunFiles.Report), settings, metrics, figures, onnxNote);

            SummaryTable.Write(console, metrics);
            context.Output.WriteLine($"wrote {RunFiles.Metrics}, {RunFiles.Losses}, {RunFiles.Model}{(File.Exists(Path.Combine(directory, OnnxModelFile.Name)) ? ", " + OnnxModelFile.Name : "")}, {figures.Count} figures and {Path.GetFileName(report)} to {directory}");
            return fit.Cancelled ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            folder?.RemoveIfEmpty();
            context.Error.WriteLine($"error: demo {preset.Name} failed{(folder is null ? "" : $" (output folder {folder.Path})")}: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
