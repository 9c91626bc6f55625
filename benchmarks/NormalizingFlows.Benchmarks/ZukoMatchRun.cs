using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>The JSON line of <c>nflows-bench zuko-match</c>: the fields ../zuko/zuko_bench.py prints, plus our peak resident memory
/// and the differences from zuko's preset that remain.</summary>
internal sealed record ZukoMatchResult(
    [property: JsonPropertyName("config")] string Config,
    [property: JsonPropertyName("library")] string Library,
    [property: JsonPropertyName("flow")] string Flow,
    [property: JsonPropertyName("features")] int Features,
    [property: JsonPropertyName("transforms")] int Transforms,
    [property: JsonPropertyName("hidden")] IReadOnlyList<int> Hidden,
    [property: JsonPropertyName("bins")] int? Bins,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("iterations")] int Iterations,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("train_rows")] int TrainRows,
    [property: JsonPropertyName("skipped_steps")] int SkippedSteps,
    [property: JsonPropertyName("train_seconds")] double TrainSeconds,
    [property: JsonPropertyName("iterations_per_second")] double IterationsPerSecond,
    [property: JsonPropertyName("final_loss")] double FinalLoss,
    [property: JsonPropertyName("test_nll")] double TestNll,
    [property: JsonPropertyName("logprob_seconds")] double LogProbSeconds,
    [property: JsonPropertyName("sample_seconds")] double SampleSeconds,
    [property: JsonPropertyName("eval_points")] int EvalPoints,
    [property: JsonPropertyName("data_sha256")] string DataSha256,
    [property: JsonPropertyName("peak_rss_mib")] double PeakRssMiB,
    [property: JsonPropertyName("differences")] IReadOnlyList<string> Differences);

/// <summary>Settings of one zuko-matched run (the command line of <c>zuko-match</c>; zuko_bench.py takes the same).</summary>
internal sealed record ZukoMatchSettings(string Config, int Iterations, int Batch, int Threads, long Seed, int EvalPoints, int TrainRows,
    long DataSeed, int Transforms, IReadOnlyList<int> Hidden, int Bins, Device Device);

/// <summary>Trains our flow matched to a zuko preset the way zuko_bench.py trains zuko's (Adam, lr 1e-3, shuffled minibatches of the
/// fixed training rows) and times training, log-prob of the test rows and sampling, with <see cref="TrainingRun"/>'s timing.</summary>
internal static class ZukoMatchRun
{
    public static ZukoMatchResult Execute(ZukoMatchSettings s)
    {
        var (flowName, features) = ZukoMatch.Parse(s.Config);
        torch.set_num_threads(s.Threads);
        float[] trainRows = ZukoData.Generate(s.TrainRows, features, s.DataSeed, part: 0);
        float[] testRows = ZukoData.Generate(s.EvalPoints, features, s.DataSeed, part: 1);
        string digest = ZukoData.Digest(trainRows, testRows);
        using var train = torch.tensor(trainRows, new long[] { s.TrainRows, features }, device: s.Device);
        using var test = torch.tensor(testRows, new long[] { s.EvalPoints, features }, device: s.Device);
        using var flow = ZukoMatch.Create(flowName, features, s.Transforms, s.Hidden, s.Bins, s.Seed);
        flow.to(s.Device);
        long parameters = 0;
        foreach (var p in flow.parameters()) parameters += p.numel();
        var options = new FitOptions
        {
            Iterations = s.Iterations, BatchSize = s.Batch, LearningRate = 1e-3, WeightDecay = 0, Optimizer = OptimizerKind.Adam, Seed = s.Seed,
        };
        var fit = Fit.ToData(flow, train, options);

        using var generator = new Generator((ulong)s.Seed + 1);
        double logProbSeconds, sampleSeconds, testNll;
        using (var scope = torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            (logProbSeconds, sampleSeconds, var logQ) = TrainingRun.TimeEvaluation(flow, test, s.EvalPoints, generator, evalChunk: 0);
            testNll = -logQ.to(ScalarType.Float64).mean().ToDouble();
        }
        return new ZukoMatchResult(s.Config, "NormalizingFlows (TorchSharp 0.107.0)", flowName, features, s.Transforms, s.Hidden,
            flowName == "maf" ? null : s.Bins, parameters, s.Device.ToString(), torch.get_num_threads(), s.Iterations, s.Batch, s.TrainRows, fit.SkippedSteps,
            Math.Round(fit.Elapsed.TotalSeconds, 3), Math.Round(fit.Iterations / fit.Elapsed.TotalSeconds, 1), Math.Round(fit.FinalLoss, 4),
            Math.Round(testNll, 4), Math.Round(logProbSeconds, 4), Math.Round(sampleSeconds, 4), s.EvalPoints, digest,
            Math.Round(ResidentMemory.PeakMiB(), 1), ZukoMatch.Differences(flowName));
    }

    public static string ToJson(ZukoMatchResult result) => JsonSerializer.Serialize(result);
}
