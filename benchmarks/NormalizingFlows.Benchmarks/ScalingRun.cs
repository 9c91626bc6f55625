using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>One measured point of the scaling study.</summary>
/// <param name="Family">Flow family (<c>real-nvp</c> or <c>nsf-coupling</c>).</param>
/// <param name="Axis">Which setting varies in this series: <c>batch</c>, <c>depth</c> or <c>dim</c>.</param>
/// <param name="Batch">Rows per step.</param>
/// <param name="Depth">Coupling layers.</param>
/// <param name="Dim">Data dimensions.</param>
/// <param name="SecondsPerStep">Median wall-clock seconds of one training step (forward, backward, Adam).</param>
internal sealed record ScalingPoint(string Family, string Axis, int Batch, int Depth, int Dim, double SecondsPerStep)
{
    public const string CsvHeader = "family,axis,batch,depth,dim,seconds_per_step,rows_per_second";

    public string ToCsv() => string.Create(CultureInfo.InvariantCulture,
        $"{Family},{Axis},{Batch},{Depth},{Dim},{SecondsPerStep:G6},{Batch / SecondsPerStep:G6}");
}

/// <summary>
/// How training time grows with batch size, depth and dimension: one setting varies at a time around a base point
/// (batch 512, 8 layers, 2 dimensions, hidden [64, 64]); each point trains on standard-normal data and reports the median
/// time of a step after warm-up steps.
/// </summary>
internal static class ScalingRun
{
    public static readonly int[] Batches = { 512, 2048, 8192, 32768, 65536 };
    public static readonly int[] Depths = { 4, 8, 16, 32, 64 };
    public static readonly int[] Dims = { 2, 4, 8, 16, 32, 64 };
    private const int BaseBatch = 512, BaseDepth = 8, BaseDim = 2;
    private static readonly int[] Hidden = { 64, 64 };

    public static IEnumerable<ScalingPoint> Execute(IReadOnlyList<string> families, int steps, int threads)
    {
        torch.set_num_threads(threads);
        foreach (var family in families)
        {
            foreach (int batch in Batches) yield return Measure(family, "batch", batch, BaseDepth, BaseDim, steps);
            foreach (int depth in Depths) yield return Measure(family, "depth", BaseBatch, depth, BaseDim, steps);
            foreach (int dim in Dims) yield return Measure(family, "dim", BaseBatch, BaseDepth, dim, steps);
        }
    }

    private static ScalingPoint Measure(string family, string axis, int batch, int depth, int dim, int steps)
    {
        using var flow = FlowCatalog.Get(family).Create(new PresetOptions(dim, Layers: depth, HiddenFeatures: Hidden, Seed: 0));
        var times = new List<double>();
        var clock = new Stopwatch();
        // Times each step from the progress reports (one per step): the first steps warm up allocator and caches.
        var progress = new StepClock(clock, times);
        clock.Start();
        Fit.ToData(flow, (count, generator) => torch.randn(new long[] { count, dim }, generator: generator), new FitOptions
        {
            Iterations = steps + 3,
            BatchSize = batch,
            ProgressInterval = 1,
        }, progress);
        var measured = times.Skip(3).OrderBy(t => t).ToArray();
        return new ScalingPoint(family, axis, batch, depth, dim, measured[measured.Length / 2]);
    }

    private sealed class StepClock(Stopwatch clock, List<double> times) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            times.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
        }
    }
}
