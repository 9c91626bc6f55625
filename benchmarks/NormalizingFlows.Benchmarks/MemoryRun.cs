using System;
using System.Text.Json;
using System.Text.Json.Serialization;
using NormalizingFlows.Training;
using TorchSharp;

namespace NormalizingFlows.Benchmarks;

/// <summary>Resident memory after a short and a long stretch of training: flat memory means every step disposes what it creates.</summary>
internal static class MemoryRun
{
    internal sealed record MemoryResult(
        [property: JsonPropertyName("config")] string Config,
        [property: JsonPropertyName("short_iterations")] int ShortIterations,
        [property: JsonPropertyName("long_iterations")] int LongIterations,
        [property: JsonPropertyName("rss_after_short_mib")] double RssAfterShort,
        [property: JsonPropertyName("rss_after_long_mib")] double RssAfterLong,
        [property: JsonPropertyName("growth_percent")] double GrowthPercent);

    public static string Execute(BenchmarkConfig config, int shortIterations, int longIterations, int threads)
    {
        torch.set_num_threads(threads);
        var target = config.Target();
        using var flow = config.CreateFlow(0);
        // One optimizer over the whole run, so that its state is counted once: train, measure, train on, measure.
        double afterShort = 0;
        var options = config.Options with { Iterations = longIterations, Seed = 0, ProgressInterval = shortIterations };
        var progress = new Probe(shortIterations, () => afterShort = ResidentMemory.CurrentMiB());
        Fit.ToData(flow, target, options, progress);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        double afterLong = ResidentMemory.CurrentMiB();
        var result = new MemoryResult(config.Name, shortIterations, longIterations, Math.Round(afterShort, 1), Math.Round(afterLong, 1),
            Math.Round(100 * (afterLong - afterShort) / afterShort, 2));
        return JsonSerializer.Serialize(result);
    }

    private sealed class Probe(int at, Action action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Iteration == at)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                action();
            }
        }
    }
}
