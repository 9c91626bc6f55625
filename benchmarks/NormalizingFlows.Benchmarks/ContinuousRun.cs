using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>One flow trained on one target for a fixed wall-clock budget, then evaluated.</summary>
internal sealed record ContinuousResult(
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("flow")] string Flow,
    [property: JsonPropertyName("training")] string Training,
    [property: JsonPropertyName("budget_seconds")] double BudgetSeconds,
    [property: JsonPropertyName("train_seconds")] double TrainSeconds,
    [property: JsonPropertyName("iterations")] int Iterations,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("skipped_steps")] int SkippedSteps,
    [property: JsonPropertyName("kl")] double Kl,
    [property: JsonPropertyName("kl_samples")] long KlSamples,
    [property: JsonPropertyName("eval_points")] long EvalPoints,
    [property: JsonPropertyName("logprob_seconds")] double LogProbSeconds,
    [property: JsonPropertyName("logprob_evaluations")] int? LogProbEvaluations,
    [property: JsonPropertyName("sample_seconds")] double SampleSeconds,
    [property: JsonPropertyName("sample_evaluations")] int? SampleEvaluations,
    [property: JsonPropertyName("transport_seconds")] double? TransportSeconds,
    [property: JsonPropertyName("transport_evaluations")] int? TransportEvaluations);

/// <summary>
/// <c>nflows-bench continuous</c>: flow-matched and maximum-likelihood continuous flows against RealNVP and the coupling neural
/// spline flow at equal training time on 2-D targets with exact densities: KL(p||q) from fresh target samples, and the time of
/// log-prob and sampling of many points (with the solver's function evaluations for the continuous flows). For continuous
/// flows "sample" goes through <c>Flow.Sample</c>, which also integrates the divergence; "transport" moves base points
/// without it (<see cref="ContinuousFlow.Transport"/>).
/// </summary>
internal static class ContinuousRun
{
    public static readonly string[] DefaultTargets = { "banana", "two-moons", "checkerboard", "rings" };
    public static readonly string[] DefaultFlows = { "flow-matching", "flow-matching-ot", "cnf", "real-nvp", "nsf-coupling" };
    private static readonly int[] Hidden = { 64, 64, 64 };

    public static IEnumerable<ContinuousResult> Execute(IReadOnlyList<string> targets, IReadOnlyList<string> flows, double budgetSeconds, int batch,
        long klSamples, long evalPoints, long seed, int threads, TextWriter log, string? pictures = null, int pictureSteps = 200)
    {
        torch.set_num_threads(threads);
        foreach (var targetName in targets)
        {
            var target = TargetCatalog.Create(targetName);
            if (!target.IsNormalized || target.Features != 2)
                throw new ArgumentException($"Target {targetName} has no exact normalised 2-D density.", nameof(targets));
            foreach (var flowName in flows)
            {
                log.WriteLine($"{targetName} / {flowName}: training for {budgetSeconds.ToString(CultureInfo.InvariantCulture)} s");
                yield return Run(target, targetName, flowName, budgetSeconds, batch, klSamples, evalPoints, seed, pictures, pictureSteps);
            }
        }
    }

    private static ContinuousResult Run(ITarget target, string targetName, string flowName, double budgetSeconds, int batch, long klSamples, long evalPoints, long seed,
        string? pictures, int pictureSteps)
    {
        using var flow = flowName switch
        {
            "flow-matching" or "flow-matching-ot" => Flows.Continuous(2, Hidden, activation: Activation.Silu, seed: seed),
            "cnf" => Flows.Continuous(2, Hidden, activation: Activation.Tanh, seed: seed),
            _ => FlowCatalog.Get(flowName).Create(new PresetOptions(2, Seed: seed)),
        };
        // As many steps as fit in the budget: the fit stops cleanly after the step during which the budget ends.
        var options = new FitOptions { Iterations = 100_000_000, BatchSize = batch, LearningRate = 1e-3, Seed = seed, ProgressInterval = int.MaxValue };
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(budgetSeconds));
        FitResult fit;
        string training;
        training = flowName switch
        {
            "flow-matching" => "flow matching",
            "flow-matching-ot" => "flow matching, minibatch OT",
            _ => "maximum likelihood",
        };
        try
        {
            fit = flowName switch
            {
                "flow-matching" => Fit.FlowMatching(flow, target, options, null, null, budget.Token),
                "flow-matching-ot" => Fit.FlowMatching(flow, target, options, new FlowMatchingOptions { OptimalTransport = true }, null, budget.Token),
                _ => Fit.ToData(flow, target, options, null, budget.Token),
            };
        }
        catch (FitFailedException e)
        {
            // Too many non-finite steps in a row: the flow keeps its last good parameters; evaluate those and say so.
            fit = e.Result;
            training += $" (stopped at step {e.Result.Iterations}: {e.Result.SkippedSteps} non-finite steps)";
        }
        var continuous = flow.Bijector as ContinuousFlow;
        // One piece, so that the solver's evaluation count covers all points.
        if (continuous is not null) flow.EvaluationChunkRows = long.MaxValue;
        double kl = Metrics.KlDivergence(target, flow, klSamples, seed + 1);

        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed + 2);
        var x = target.Sample(evalPoints, generator);
        var clock = Stopwatch.StartNew();
        using (torch.inference_mode()) flow.LogProb(x).sum().ToDouble();
        double logProbSeconds = clock.Elapsed.TotalSeconds;
        int? logProbEvaluations = continuous?.LastFunctionEvaluations;
        clock.Restart();
        using (torch.inference_mode()) flow.Sample(evalPoints, generator: generator).sum().ToDouble();
        double sampleSeconds = clock.Elapsed.TotalSeconds;
        int? sampleEvaluations = continuous?.LastFunctionEvaluations;
        double? transportSeconds = null;
        int? transportEvaluations = null;
        if (continuous is not null)
        {
            var z = torch.randn(new[] { evalPoints, 2L }, generator: generator);
            clock.Restart();
            using (torch.inference_mode()) continuous.Transport(z).sum().ToDouble();
            transportSeconds = Math.Round(clock.Elapsed.TotalSeconds, 4);
            transportEvaluations = continuous.LastFunctionEvaluations;
        }
        if (pictures is not null)
        {
            Directory.CreateDirectory(pictures);
            NormalizingFlows.Plotting.Plots.Densities(Path.Combine(pictures, $"{targetName}-{flowName}.png"), target, flow, steps: pictureSteps);
        }
        return new ContinuousResult(targetName, flowName, training, budgetSeconds, Math.Round(fit.Elapsed.TotalSeconds, 3), fit.Iterations, batch,
            fit.SkippedSteps, Math.Round(kl, 4), klSamples, evalPoints, Math.Round(logProbSeconds, 4), logProbEvaluations, Math.Round(sampleSeconds, 4),
            sampleEvaluations, transportSeconds, transportEvaluations);
    }

    public static string ToJson(ContinuousResult result) => JsonSerializer.Serialize(result, JsonOptions);

    // A flow that failed can have an infinite or NaN KL: written as "Infinity" / "NaN" rather than failing the run.
    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The results as a Markdown table, one row per target and flow.</summary>
    public static string Table(IEnumerable<ContinuousResult> results)
    {
        static string F(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
        var lines = new List<string>
        {
            "| target | flow | training | steps | train s | KL (nats) | log-prob s (evals) | sample s (evals) | transport s (evals) |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        };
        foreach (var r in results)
            lines.Add($"| {r.Target} | {r.Flow} | {r.Training} | {r.Iterations} | {F(r.TrainSeconds, "F1")} | {F(r.Kl, "F3")} | " +
                      $"{F(r.LogProbSeconds, "F2")} ({F(r.LogProbEvaluations, "F0")}) | {F(r.SampleSeconds, "F2")} ({F(r.SampleEvaluations, "F0")}) | " +
                      $"{F(r.TransportSeconds, "F2")} ({F(r.TransportEvaluations, "F0")}) |");
        return string.Join(Environment.NewLine, lines);
    }
}
