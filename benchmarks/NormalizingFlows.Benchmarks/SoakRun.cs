using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>
/// The reliability soak: training, four threads of evaluation and a thread that allocates and forces garbage collections,
/// all at once, for a fixed time. Any exception from the library is a failure (a temporary TorchSharp Scalar freed by a
/// collection during a native call shows up as "Expected false to be true" from <c>Scalar::toFloat</c>, or kills the
/// process outright, which also fails the run).
/// </summary>
/// <remarks>
/// What runs concurrently is what the README's thread-safety contract allows: one thread trains a flow it owns (cycling
/// through every catalogue preset that has a density); two threads evaluate one shared flow (LogProb, Sample,
/// SampleWithLogProb, each with its own generator); two more evaluate flows of their own; one thread allocates short-lived
/// garbage and calls <see cref="GC.Collect()"/> with <see cref="GC.WaitForPendingFinalizers"/> in a loop, so finalizers
/// run while native calls are in flight on the other threads.
/// </remarks>
internal static class SoakRun
{
    internal sealed record SoakResult(
        [property: JsonPropertyName("seconds")] double Seconds,
        [property: JsonPropertyName("training_steps")] long TrainingSteps,
        [property: JsonPropertyName("presets_trained")] int PresetsTrained,
        [property: JsonPropertyName("evaluation_calls")] long EvaluationCalls,
        [property: JsonPropertyName("forced_collections")] long ForcedCollections,
        [property: JsonPropertyName("failures")] long Failures,
        [property: JsonPropertyName("first_failures")] IReadOnlyList<string> FirstFailures);

    public static (string Json, bool Passed) Execute(double seconds, long seed)
    {
        var presets = FlowCatalog.All.Where(p => p.HasDensity && Builds(p)).ToArray();
        if (presets.Length == 0)
            throw new InvalidOperationException("No catalogue preset builds a 2-D flow.");
        var failures = new ConcurrentQueue<string>();
        long failureCount = 0, trainingSteps = 0, evaluationCalls = 0, collections = 0;
        int presetsTrained = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();

        void Fail(string where, Exception e)
        {
            Interlocked.Increment(ref failureCount);
            if (failures.Count < 10)
                failures.Enqueue($"{where}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }

        using var shared = presets[0].Create(new PresetOptions(2, Layers: 4, Seed: seed));
        shared.eval();
        var threads = new List<Thread>
        {
            new(() =>
            {
                torch.set_num_threads(1);
                var target = new Banana();
                for (int round = 0; !stop.IsCancellationRequested; round++)
                {
                    var preset = presets[round % presets.Length];
                    try
                    {
                        using var flow = preset.Create(new PresetOptions(2, Layers: 4, Seed: seed + round));
                        var result = Fit.ToData(flow, target, new FitOptions { Iterations = 100, BatchSize = 256, Seed = seed + round, ProgressInterval = 100 },
                            cancellationToken: stop.Token);
                        Interlocked.Add(ref trainingSteps, result.Iterations);
                        Interlocked.Increment(ref presetsTrained);
                    }
                    catch (Exception e)
                    {
                        Fail($"training {preset.Name}", e);
                    }
                }
            }) { Name = "soak training" },
        };
        for (int i = 0; i < 4; i++)
        {
            int index = i;
            threads.Add(new Thread(() =>
            {
                torch.set_num_threads(1);
                using var own = index < 2 ? null : presets[(index + 1) % presets.Length].Create(new PresetOptions(2, Layers: 4, Seed: seed + 100 + index));
                own?.eval();
                var flow = own ?? shared;
                using var generator = new Generator((ulong)(seed + 1000 + index));
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var scope = torch.NewDisposeScope();
                        using (torch.no_grad())
                        {
                            var x = torch.randn(new long[] { 64, 2 }, generator: generator);
                            flow.LogProb(x);
                            flow.Sample(64, generator: generator);
                            flow.SampleWithLogProb(64, generator: generator);
                        }
                        Interlocked.Add(ref evaluationCalls, 3);
                    }
                    catch (Exception e)
                    {
                        Fail($"evaluation thread {index}", e);
                    }
                }
            }) { Name = $"soak evaluation {index}" });
        }
        threads.Add(new Thread(() =>
        {
            var keep = new List<byte[]>();
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 64; i++)
                    keep.Add(new byte[1 + (i * 4099) % 100_000]);
                keep.Clear();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
                Thread.Sleep(1);
            }
        }) { Name = "soak collector" });

        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        var soak = new SoakResult(Math.Round(clock.Elapsed.TotalSeconds, 1), trainingSteps, presetsTrained, evaluationCalls, collections,
            failureCount, failures.ToArray());
        return (JsonSerializer.Serialize(soak), failureCount == 0);
    }

    private static bool Builds(FlowPreset preset)
    {
        try
        {
            using var flow = preset.Create(new PresetOptions(2, Layers: 2, Seed: 0));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
