using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;
using NormalizingFlows.Onnx;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>One line of <c>nflows-bench onnx-reference</c>: a reference configuration trained as <c>nflows-bench run</c> trains
/// it, then log-prob and sampling of the same evaluation points timed through TorchSharp and through the exported model in
/// ONNX Runtime (<see cref="OnnxFlow"/>).</summary>
internal sealed record OnnxReferenceResult(
    [property: JsonPropertyName("config")] string Config,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("iterations")] int Iterations,
    [property: JsonPropertyName("train_seconds")] double TrainSeconds,
    [property: JsonPropertyName("kl")] double Kl,
    [property: JsonPropertyName("torch_logprob_seconds")] double TorchLogProbSeconds,
    [property: JsonPropertyName("torch_sample_seconds")] double TorchSampleSeconds,
    [property: JsonPropertyName("onnx_logprob_seconds")] double OnnxLogProbSeconds,
    [property: JsonPropertyName("onnx_sample_seconds")] double OnnxSampleSeconds,
    [property: JsonPropertyName("onnx_model_bytes")] long OnnxModelBytes,
    [property: JsonPropertyName("max_logprob_relative_difference")] double MaxLogProbRelativeDifference,
    [property: JsonPropertyName("eval_points")] long EvalPoints);

/// <summary>Trains a reference configuration (seed000, banana, leaky: <see cref="BenchmarkConfig"/>) exactly as
/// <see cref="TrainingRun"/> does, exports it (float32, all graphs) and times, on the same evaluation points and with the same
/// thread count, TorchSharp's log-prob and sampling (<see cref="TrainingRun.TimeEvaluation"/>, as <c>nflows-bench run</c> times
/// them) and ONNX Runtime's (<see cref="OnnxFlow.LogProb(float[,], float[,])"/> and <see cref="OnnxFlow.Sample"/>, after one
/// 256-row warm-up call each: the session's first run allocates its kernels). Session creation is not timed.</summary>
internal static class OnnxReferenceRun
{
    public static OnnxReferenceResult Execute(BenchmarkConfig config, int iterations, int batch, long seed, long evalPoints, int threads)
    {
        if (evalPoints > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(evalPoints), evalPoints, "At most int.MaxValue evaluation points.");
        torch.set_num_threads(threads);
        var target = config.Target();
        using var flow = config.CreateFlow(seed);
        var options = config.Options with { Iterations = iterations, BatchSize = batch, Seed = seed };
        var fit = Fit.ToData(flow, target, options);
        flow.eval();
        var model = flow.ToOnnx();
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var onnx = OnnxFlow.Load(model, sessionOptions);
        using var generator = new Generator((ulong)seed + 1);
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var x = target.Sample(evalPoints, generator, ScalarType.Float32, torch.CPU);
        var (torchLogProb, torchSample, logQ) = TrainingRun.TimeEvaluation(flow, x, evalPoints, generator, 0);
        var kl = target.LogDensity(x).to(ScalarType.Float64).sub(logQ.to(ScalarType.Float64)).mean().ToDouble();
        int points = (int)evalPoints;
        int features = (int)x.size(1);
        var rows = new float[points, features];
        var values = x.contiguous().data<float>().ToArray();
        Buffer.BlockCopy(values, 0, rows, 0, values.Length * sizeof(float));
        var warmUp = new float[Math.Min(256, points), features];
        Buffer.BlockCopy(values, 0, warmUp, 0, warmUp.Length * sizeof(float));
        onnx.LogProb(warmUp);
        onnx.Sample(warmUp.GetLength(0), seed: 0);
        var clock = Stopwatch.StartNew();
        var onnxLogQ = onnx.LogProb(rows);
        double onnxLogProb = clock.Elapsed.TotalSeconds;
        clock.Restart();
        onnx.Sample(points, seed: (int)seed);
        double onnxSample = clock.Elapsed.TotalSeconds;
        var expected = logQ.to(ScalarType.Float64).data<double>().ToArray();
        double difference = 0;
        for (int i = 0; i < expected.Length; i++)
            if (double.IsFinite(expected[i])) difference = Math.Max(difference, Math.Abs(expected[i] - onnxLogQ[i]) / (1 + Math.Abs(expected[i])));
        return new OnnxReferenceResult(config.Name, torch.get_num_threads(), iterations, Math.Round(fit.Elapsed.TotalSeconds, 3), Math.Round(kl, 4),
            Math.Round(torchLogProb, 4), Math.Round(torchSample, 4), Math.Round(onnxLogProb, 4), Math.Round(onnxSample, 4), model.LongLength,
            double.Parse(difference.ToString("E2", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture), evalPoints);
    }

    public static string ToJson(OnnxReferenceResult result) => JsonSerializer.Serialize(result);
}
