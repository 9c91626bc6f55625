using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>Log-prob and sampling time of catalogue flows through ONNX Runtime (the exported model, scored by
/// <see cref="OnnxFlow"/>) against the TorchSharp path, side by side in one process with the same thread count. Untrained
/// weights moved by N(0, 0.1^2) (the time does not depend on their values); the two paths alternate within each repetition and
/// the median over repetitions is printed, with the largest log-prob difference between them, relative to 1 + |log q|, as a parity check,
/// and each engine's largest float32 difference from the same flow evaluated in float64 (the same parameters; after the timings): where
/// the flow itself is badly conditioned in float32 both engines are far from float64 by about as much as they are from each other.</summary>
internal static class OnnxRun
{
    public const string CsvHeader =
        "flow,features,points,threads,torch_logprob_seconds,onnx_logprob_seconds,logprob_ratio,torch_sample_seconds,onnx_sample_seconds,sample_ratio,max_logprob_relative_difference,torch_max_difference_from_float64,onnx_max_difference_from_float64";

    /// <param name="flows">Catalogue flows to time.</param>
    /// <param name="features">Event width of each flow.</param>
    /// <param name="points">Rows scored and sampled per timing (the benchmark: 100 000).</param>
    /// <param name="threads">Threads for both engines (libtorch intra-op, ONNX Runtime intra-op).</param>
    /// <param name="repeats">Timed repetitions (after one warm-up round).</param>
    /// <returns>CSV lines, one per flow.</returns>
    public static IEnumerable<string> Execute(IReadOnlyList<string> flows, int features, int points, int threads, int repeats)
    {
        torch.set_num_threads(threads);
        foreach (var name in flows)
        {
            using var flow = FlowCatalog.Get(name).Create(new PresetOptions(features, Seed: 1));
            using (var generator = new Generator(2))
            using (torch.no_grad())
            {
                foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.1));
            }
            flow.eval();
            using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            using var onnx = OnnxFlow.Load(flow.ToOnnx(), options);
            using var data = torch.randn(new long[] { points, features }, generator: new Generator(3));
            var rows = new float[points, features];
            var values = data.data<float>().ToArray();
            Buffer.BlockCopy(values, 0, rows, 0, values.Length * sizeof(float));
            var torchLogProb = new List<double>();
            var onnxLogProb = new List<double>();
            var torchSample = new List<double>();
            var onnxSample = new List<double>();
            double difference = 0;
            float[] lastTorch = Array.Empty<float>(), lastOnnx = Array.Empty<float>();
            for (int r = 0; r <= repeats; r++)
            {
                using var scope = torch.NewDisposeScope();
                using var inference = torch.inference_mode();
                var clock = Stopwatch.StartNew();
                var expected = flow.LogProb(data).data<float>().ToArray();
                double tl = clock.Elapsed.TotalSeconds;
                clock.Restart();
                var actual = onnx.LogProb(rows);
                double ol = clock.Elapsed.TotalSeconds;
                clock.Restart();
                flow.Sample(points, generator: new Generator((ulong)r)).sum().ToDouble();
                double ts = clock.Elapsed.TotalSeconds;
                clock.Restart();
                _ = onnx.Sample(points, seed: r);
                double os = clock.Elapsed.TotalSeconds;
                for (int i = 0; i < expected.Length; i++)
                    if (float.IsFinite(expected[i])) difference = Math.Max(difference, Math.Abs(expected[i] - actual[i]) / (1 + Math.Abs(expected[i])));
                lastTorch = expected;
                lastOnnx = actual;
                if (r == 0) continue; // warm-up round
                torchLogProb.Add(tl);
                onnxLogProb.Add(ol);
                torchSample.Add(ts);
                onnxSample.Add(os);
            }
            double torchFromFloat64 = 0, onnxFromFloat64 = 0;
            flow.to(ScalarType.Float64);
            using (torch.inference_mode())
            using (var data64 = data.to(ScalarType.Float64))
            using (var reference = flow.LogProb(data64))
            {
                var exact = reference.data<double>().ToArray();
                for (int i = 0; i < exact.Length; i++)
                {
                    if (!double.IsFinite(exact[i])) continue;
                    torchFromFloat64 = Math.Max(torchFromFloat64, Math.Abs(lastTorch[i] - exact[i]) / (1 + Math.Abs(exact[i])));
                    onnxFromFloat64 = Math.Max(onnxFromFloat64, Math.Abs(lastOnnx[i] - exact[i]) / (1 + Math.Abs(exact[i])));
                }
            }
            double tlm = Median(torchLogProb), olm = Median(onnxLogProb), tsm = Median(torchSample), osm = Median(onnxSample);
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{name},{features},{points},{threads},{tlm:F4},{olm:F4},{olm / tlm:F2},{tsm:F4},{osm:F4},{osm / tsm:F2},{difference:E2},{torchFromFloat64:E2},{onnxFromFloat64:E2}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
