using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using NormalizingFlows.Cli.Output;
using NormalizingFlows.Cli.Rendering;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;

namespace NormalizingFlows.Cli.Variational;

/// <summary>Fits a flow to a target density by reverse KL (no samples of the target), then reports importance-sampling diagnostics.</summary>
internal static class FitTargetRunner
{
    /// <summary>Runs the fit described by <paramref name="settings"/>.</summary>
    /// <returns>An exit code: <see cref="ExitCodes.Ok"/>, <see cref="ExitCodes.Failure"/> or <see cref="ExitCodes.Interrupted"/>.</returns>
    public static int Run(FitTargetSettings settings, CliContext context, CancellationToken cancellationToken)
    {
        var console = context.CreateConsole();
        RunFolder? folder = null;
        try
        {
            var started = DateTime.UtcNow;
            // First, so that an unwritable folder fails before any training.
            folder = RunFolder.Prepare(settings.OutputDirectory ?? RunFiles.DefaultDirectory(Directory.GetCurrentDirectory(), "fit-" + settings.Target, DateTime.Now));
            string directory = folder.Path;
            var target = TargetCatalog.Create(settings.Target);
            var preset = FlowCatalog.Get(settings.Flow);
            using var flow = preset.Create(new PresetOptions(target.Features, Layers: settings.Layers, HiddenFeatures: settings.Hidden, Seed: settings.Seed));
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fit-target {target.Name} ({(target.IsNormalized ? "normalised" : "unnormalised")} density, no samples used): {preset.Name}, " +
                $"{settings.Iterations} iterations x {settings.BatchSize} samples, seed {settings.Seed}"));
            context.Output.WriteLine($"writing to {directory}");

            var options = new FitOptions
            {
                Iterations = settings.Iterations,
                BatchSize = settings.BatchSize,
                LearningRate = settings.LearningRate,
                Schedule = LearningRateSchedule.Cosine(0.01),
                Seed = settings.Seed,
                ProgressInterval = TrainingProgressView.ReportInterval(settings.Iterations, context.Interactive),
            };
            var variational = new VariationalOptions
            {
                AnnealingIterations = settings.AnnealingIterations,
                InitialBeta = settings.AnnealingIterations > 0 ? settings.InitialBeta : 1.0,
                PathDerivative = settings.PathDerivative,
            };
            FitResult fit;
            try
            {
                fit = TrainingProgressView.Run(context, console, $"fitting {target.Name}", settings.Iterations, progress =>
                {
                    using var scope = torch.NewDisposeScope();
                    return Fit.ToDensity(flow, target, options, variational, progress, cancellationToken);
                });
            }
            catch (FitFailedException e)
            {
                // Training started and failed: keep the losses so far.
                RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), e.Result.Losses);
                throw;
            }
            string? modelFile = null;
            // The model, losses.csv and metrics.json (evaluation fields null until there is one).
            void WriteResults(ImportanceEstimate estimate, MetricEstimate? kl, double evalSeconds)
            {
                modelFile ??= ModelOutput.Save(flow, directory, new JsonObject
                {
                    ["command"] = settings.Command,
                    ["target"] = target.Name,
                    ["flow"] = preset.Name,
                });
                var metrics = new JsonObject
                {
                    ["command"] = settings.Command,
                    ["target"] = target.Name,
                    ["normalised_target"] = target.IsNormalized,
                    ["flow"] = preset.Name,
                    ["flow_parameters"] = flow.parameters().Sum(p => p.numel()),
                    ["iterations"] = settings.Iterations,
                    ["completed_iterations"] = fit.Iterations,
                    ["batch"] = settings.BatchSize,
                    ["learning_rate"] = settings.LearningRate,
                    ["annealing_iterations"] = settings.AnnealingIterations,
                    ["initial_beta"] = variational.InitialBeta,
                    ["path_derivative"] = settings.PathDerivative,
                    ["seed"] = settings.Seed,
                    ["skipped_steps"] = fit.SkippedSteps,
                    ["train_seconds"] = fit.Elapsed.TotalSeconds,
                    ["final_loss"] = Finite(fit.FinalLoss),
                    ["eval_samples"] = settings.EvalSamples,
                    ["eval_seconds"] = evalSeconds,
                    ["ess_fraction"] = Finite(estimate.EffectiveSampleFraction),
                    ["log_z"] = Finite(estimate.LogNormalizer),
                    ["elbo"] = Finite(estimate.EvidenceLowerBound),
                    ["reverse_kl"] = Finite(estimate.ReverseKl),
                    ["kl"] = kl is { } k ? Finite(k.Value) : null,
                    ["kl_standard_error"] = kl is { } ks ? Finite(ks.StandardError) : null,
                    ["exact"] = ExactEvaluation.IsAffordable(flow),
                    ["cancelled"] = fit.Cancelled,
                    ["started_utc"] = started.ToString("O", CultureInfo.InvariantCulture),
                };
                RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), fit.Losses);
                RunFiles.WriteJson(Path.Combine(directory, RunFiles.Metrics), metrics);
            }

            if (fit.Cancelled)
            {
                // What a first Ctrl+C promised, on disk before the evaluation: a second Ctrl+C from here on ends the run at once.
                WriteResults(new ImportanceEstimate(double.NaN, double.NaN, 0, double.NaN), null, 0);
                context.ResultsWritten();
                if (context.Hurry.IsCancellationRequested)
                {
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"interrupted after {fit.Iterations} of {settings.Iterations} iterations: wrote {RunFiles.Model}, {RunFiles.Losses} and {RunFiles.Metrics} (no evaluation) to {directory}"));
                    return ExitCodes.Interrupted;
                }
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"interrupted after {fit.Iterations} of {settings.Iterations} iterations: wrote {RunFiles.Model}, {RunFiles.Losses} and {RunFiles.Metrics}; evaluating what was trained"));
            }

            var clock = Stopwatch.StartNew();
            ImportanceEstimate estimate;
            MetricEstimate? kl = null;
            using (torch.NewDisposeScope())
            {
                estimate = ImportanceSampling.Estimate(flow, target, settings.EvalSamples, unchecked(settings.Seed + 1));
                if (target.IsNormalized && preset.HasDensity) kl = Metrics.KlDivergenceEstimate(target, flow, settings.EvalSamples, unchecked(settings.Seed + 1));
            }
            clock.Stop();
            WriteResults(estimate, kl, clock.Elapsed.TotalSeconds);

            string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
            KeyValueTable.Write(console, new[]
            {
                ("target", target.Name),
                ("flow", preset.Name),
                ("iterations", fit.Iterations.ToString(CultureInfo.InvariantCulture) + (fit.Cancelled ? " (interrupted)" : "")),
                ("skipped steps", fit.SkippedSteps.ToString(CultureInfo.InvariantCulture)),
                ("train time", $"{F(fit.Elapsed.TotalSeconds, "F1")} s"),
                ("final loss (KL(q||p) - log Z)", F(fit.FinalLoss, "F4")),
                ("effective sample size", $"{F(estimate.EffectiveSampleFraction * 100, "F1")} % of {settings.EvalSamples.ToString(CultureInfo.InvariantCulture)}"),
                ("log Z (importance sampling)", F(estimate.LogNormalizer, "F4")),
                ("KL(q||p)", $"{F(estimate.ReverseKl, "F4")} nats"),
                ("log-densities", ExactEvaluation.IsAffordable(flow) ? "exact" : "stochastic estimates (residual blocks too wide for exact log-dets)"),
                ("KL(p||q)", kl is { } value ? $"{value.Format("F4")} nats" : "n/a (unnormalised target or no inverse)"),
            });
            context.Output.WriteLine($"wrote {RunFiles.Metrics}, {RunFiles.Losses} and {RunFiles.Model} to {directory}");
            return fit.Cancelled ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            folder?.RemoveIfEmpty();
            context.Error.WriteLine($"error: fit-target {settings.Target} failed{(folder is null ? "" : $" (output folder {folder.Path})")}: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>JSON has no NaN or infinity: write null for them.</summary>
    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
