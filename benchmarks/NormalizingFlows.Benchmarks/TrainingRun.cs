using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>The figures one run prints: the reference's JSON fields plus resident memory.</summary>
internal sealed record RunResult(
    [property: JsonPropertyName("config")] string Config,
    [property: JsonPropertyName("library")] string Library,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("iterations")] int Iterations,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("skipped_steps")] int SkippedSteps,
    [property: JsonPropertyName("train_seconds")] double TrainSeconds,
    [property: JsonPropertyName("iterations_per_second")] double IterationsPerSecond,
    [property: JsonPropertyName("final_loss")] double FinalLoss,
    [property: JsonPropertyName("test_nll")] double TestNll,
    [property: JsonPropertyName("kl")] double Kl,
    [property: JsonPropertyName("logprob_seconds")] double LogProbSeconds,
    [property: JsonPropertyName("sample_seconds")] double SampleSeconds,
    [property: JsonPropertyName("eval_points")] long EvalPoints,
    [property: JsonPropertyName("peak_rss_mib")] double PeakRssMiB);

/// <summary>Trains one configuration the way the reference does and times training, log-prob and sampling.</summary>
internal static class TrainingRun
{
    public static RunResult Execute(BenchmarkConfig config, int iterations, int batch, long seed, long evalPoints, int threads, Device device, long evalChunk = 0)
    {
        torch.set_num_threads(threads);
        var target = config.Target();
        using var flow = config.CreateFlow(seed);
        flow.to(device);
        var options = config.Options with { Iterations = iterations, BatchSize = batch, Seed = seed };
        var fit = Fit.ToData(flow, target, options);

        using var generator = new Generator((ulong)seed + 1);
        double logProbSeconds, sampleSeconds, testNll, kl;
        using (var scope = torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            var x = target.Sample(evalPoints, generator, ScalarType.Float32, device);
            (logProbSeconds, sampleSeconds, var logQ) = TimeEvaluation(flow, x, evalPoints, generator, evalChunk);
            var logP = target.LogDensity(x);
            testNll = -logQ.to(ScalarType.Float64).mean().ToDouble();
            kl = logP.to(ScalarType.Float64).sub(logQ.to(ScalarType.Float64)).mean().ToDouble();
        }
        return new RunResult(config.Name, "NormalizingFlows (TorchSharp 0.107.0)", device.ToString(), torch.get_num_threads(), iterations, batch,
            fit.SkippedSteps, Math.Round(fit.Elapsed.TotalSeconds, 3), Math.Round(fit.Iterations / fit.Elapsed.TotalSeconds, 1),
            Math.Round(fit.FinalLoss, 4), Math.Round(testNll, 4), Math.Round(kl, 4), Math.Round(logProbSeconds, 4), Math.Round(sampleSeconds, 4),
            evalPoints, Math.Round(ResidentMemory.PeakMiB(), 1));
    }

    /// <summary>Times <c>flow.LogProb(x)</c> and <c>flow.Sample(points)</c> (each waited for on the device); call it inside the
    /// caller's dispose scope and inference mode, which own the returned log-densities. <c>evalChunk</c> is Flow.EvaluationChunkRows
    /// (0: automatic; -1: all rows at once).</summary>
    public static (double LogProbSeconds, double SampleSeconds, Tensor LogQ) TimeEvaluation(Flow flow, Tensor x, long points, Generator generator, long evalChunk)
    {
        var clock = Stopwatch.StartNew();
        flow.EvaluationChunkRows = evalChunk < 0 ? long.MaxValue : evalChunk;
        var logQ = flow.LogProb(x);
        logQ.sum().ToDouble(); // waits for the device
        double logProbSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var samples = flow.Sample(points, generator: generator);
        samples.sum().ToDouble();
        return (logProbSeconds, clock.Elapsed.TotalSeconds, logQ);
    }

    public static string ToJson(RunResult result) => JsonSerializer.Serialize(result);
}
