using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using NormalizingFlows.Plotting;

namespace NormalizingFlows.Benchmarks;

/// <summary>Draws the scaling study's CSV (from <c>nflows-bench scaling</c>) as three panels: time per step against batch size,
/// depth and dimension, one line per flow family, both axes logarithmic.</summary>
internal static class ScalingPlot
{
    public static string Write(string csvPath, string pngPath)
    {
        var rows = File.ReadAllLines(csvPath).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToArray();
        double D(string v) => double.Parse(v, CultureInfo.InvariantCulture);
        LinePanel Panel(string axis, int column, string title, string label) => new(
            title, label, "seconds per training step",
            rows.Where(r => r[1] == axis).GroupBy(r => r[0])
                .Select(g => new LineSeries(g.Key, g.Select(r => D(r[column])).ToArray(), g.Select(r => D(r[5])).ToArray()))
                .ToArray(),
            LogX: true, LogY: true);
        return Plots.Lines(pngPath, new List<LinePanel>
        {
            Panel("batch", 2, "batch size (8 layers, 2-D)", "rows per step"),
            Panel("depth", 3, "depth (batch 512, 2-D)", "coupling layers"),
            Panel("dim", 4, "dimension (batch 512, 8 layers)", "features"),
        });
    }
}
