using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Plotting.Internal;
using ScottPlot;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>
    /// Line charts side by side, one per panel, each with markers, a legend and optionally logarithmic axes (labelled with
    /// the values themselves): for comparing runs or settings, such as training time against batch size, depth and
    /// dimension in the scaling study.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="panels">The panels, left to right; at least one.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">No panel, a panel without lines, a line whose X and Y differ in length or that is
    /// empty, or a non-positive value on a logarithmic axis (the message names the panel and line).</exception>
    public static string Lines(string path, IReadOnlyList<LinePanel> panels, int width = 1500, int height = 480)
    {
        Figure.CheckOutput(path, width, height);
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("Expected at least one panel in panels; got none.", nameof(panels));
        var plots = panels.Select(LinePlot).ToArray();
        return plots.Length == 1 ? Figure.SavePng(plots[0], path, width, height) : Figure.SavePng(Figure.Grid(plots, plots.Length), path, width, height);
    }

    private static Plot LinePlot(LinePanel panel)
    {
        ArgumentNullException.ThrowIfNull(panel);
        if (panel.Series.Count == 0) throw new ArgumentException($"Panel '{panel.Title}' has no lines.", "panels");
        foreach (var line in panel.Series)
        {
            if (line.X.Count != line.Y.Count || line.X.Count == 0)
                throw new ArgumentException($"Line '{line.Name}' of panel '{panel.Title}' has {line.X.Count} x and {line.Y.Count} y values; expected the same, at least one.", "panels");
            if ((panel.LogX && line.X.Any(v => !(v > 0))) || (panel.LogY && line.Y.Any(v => !(v > 0))))
                throw new ArgumentException($"Line '{line.Name}' of panel '{panel.Title}' has a value of 0 or less on a logarithmic axis.", "panels");
        }
        Func<double, double> sx = panel.LogX ? Math.Log10 : v => v, sy = panel.LogY ? Math.Log10 : v => v;
        var plot = Figure.NewPlot();
        foreach (var line in panel.Series)
        {
            var scatter = plot.Add.ScatterLine(line.X.Select(sx).ToArray(), line.Y.Select(sy).ToArray());
            scatter.LegendText = line.Name;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
            scatter.MarkerShape = MarkerShape.FilledCircle;
        }
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        if (panel.LogX) plot.Axes.Bottom.TickGenerator = LogTicks(limits.Left, limits.Right);
        if (panel.LogY) plot.Axes.Left.TickGenerator = LogTicks(limits.Bottom, limits.Top);
        plot.Title(panel.Title);
        plot.XLabel(panel.XLabel + (panel.LogX ? " (log scale)" : ""));
        plot.YLabel(panel.YLabel + (panel.LogY ? " (log scale)" : ""));
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
