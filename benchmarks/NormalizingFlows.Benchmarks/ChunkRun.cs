using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>Log-prob and sampling time of one configuration's flow against <see cref="Flow.EvaluationChunkRows"/> (untrained
/// weights: the time does not depend on their values). The sizes take turns within each repetition, so a slow spell of the
/// machine does not favour one size; the median over repetitions is printed.</summary>
internal static class ChunkRun
{
    /// <param name="config">The configuration whose flow is timed.</param>
    /// <param name="points">Rows evaluated and sampled per timing.</param>
    /// <param name="threads">libtorch intra-op threads.</param>
    /// <param name="chunkSizes">Values of <see cref="Flow.EvaluationChunkRows"/> to time; -1 for all rows at once.</param>
    /// <param name="repeats">Timed repetitions per size (after one warm-up round).</param>
    /// <returns>CSV lines: header, then one line per size.</returns>
    public static IEnumerable<string> Execute(BenchmarkConfig config, long points, int threads, IReadOnlyList<long> chunkSizes, int repeats)
    {
        torch.set_num_threads(threads);
        using var flow = config.CreateFlow(1);
        flow.eval();
        var target = config.Target();
        using var generator = new Generator(7);
        using var x = target.Sample(points, generator, ScalarType.Float32, CPU);
        long automatic = flow.ChunkRows;
        var logProb = chunkSizes.Select(_ => new List<double>()).ToArray();
        var sample = chunkSizes.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r <= repeats; r++)
        {
            for (int k = 0; k < chunkSizes.Count; k++)
            {
                flow.EvaluationChunkRows = chunkSizes[k] < 0 ? long.MaxValue : chunkSizes[k];
                using var scope = torch.NewDisposeScope();
                using var inference = torch.inference_mode();
                var clock = Stopwatch.StartNew();
                flow.LogProb(x).sum().ToDouble();
                double l = clock.Elapsed.TotalSeconds;
                clock.Restart();
                flow.Sample(points, generator: generator).sum().ToDouble();
                double s = clock.Elapsed.TotalSeconds;
                if (r == 0) continue; // warm-up round
                logProb[k].Add(l);
                sample[k].Add(s);
            }
        }
        yield return $"chunk_rows,logprob_seconds,sample_seconds  # {config.Name}, {points} points, {threads} threads, automatic = {automatic} rows";
        for (int k = 0; k < chunkSizes.Count; k++)
            yield return $"{(chunkSizes[k] < 0 ? "all" : chunkSizes[k] == 0 ? "auto" : chunkSizes[k].ToString())},{Median(logProb[k]):F4},{Median(sample[k]):F4}";
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
