using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NormalizingFlows.Plotting.Internal;
using ScottPlot;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>
    /// The training curve: the loss of every step against the iteration (1-based: <c>losses[i]</c> is iteration
    /// <c>i + 1</c>), on a log scale when every finite loss (and validation loss) is positive and on a linear scale
    /// otherwise (the axis label says which). Optionally validation losses at their iterations, a centred moving average
    /// drawn over the raw curve, and the skipped steps (NaN or infinite losses) marked below the curve.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="losses">One loss per step; NaN or infinity marks a skipped step. At least one must be finite.</param>
    /// <param name="validation">Validation losses at given iterations; null for none. Non-finite entries are left out.</param>
    /// <param name="smoothingWindow">Steps in the moving average: null picks one (a 50th of the steps, at least 5, and no
    /// smoothing under 50 steps); 0 or 1 turns smoothing off.</param>
    /// <param name="markSkipped">Whether to mark skipped steps.</param>
    /// <param name="title">The title; null for "training loss".</param>
    /// <param name="unit">The loss's unit, shown on its axis, e.g. "nats per row" for a mean negative log-likelihood; null
    /// for none.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">There are no losses or no finite one, the window is negative, or a size is out of range.</exception>
    public static string TrainingCurve(string path, IReadOnlyList<double> losses,
        IReadOnlyList<(int Iteration, double Loss)>? validation = null, int? smoothingWindow = null, bool markSkipped = true,
        string? title = null, string? unit = null, int width = 900, int height = 500)
    {
        Figure.CheckOutput(path, width, height);
        ArgumentNullException.ThrowIfNull(losses);
        if (losses.Count == 0)
            throw new ArgumentException("Expected at least one loss in losses; got none.", nameof(losses));
        if (!losses.Any(double.IsFinite))
            throw new ArgumentException($"Expected at least one finite loss in losses; all {losses.Count} are NaN or infinite.", nameof(losses));
        if (smoothingWindow < 0)
            throw new ArgumentOutOfRangeException(nameof(smoothingWindow), smoothingWindow, $"Expected a smoothing window of 0 or more steps; got {smoothingWindow}.");
        return Figure.SavePng(TrainingCurvePlot(losses, validation, smoothingWindow, markSkipped, title, unit), path, width, height);
    }

    /// <summary>The training-curve plot (for tests and for callers that add to it).</summary>
    internal static Plot TrainingCurvePlot(IReadOnlyList<double> losses, IReadOnlyList<(int Iteration, double Loss)>? validation,
        int? smoothingWindow, bool markSkipped, string? title, string? unit = null)
    {
        var valid = (validation ?? Array.Empty<(int, double)>()).Where(v => double.IsFinite(v.Loss)).ToArray();
        var finiteLosses = losses.Where(double.IsFinite).ToArray();
        bool log = finiteLosses.All(v => v > 0) && valid.All(v => v.Loss > 0);
        Func<double, double> scale = log ? Math.Log10 : v => v;

        var plot = Figure.NewPlot();
        var iterations = new List<double>();
        var values = new List<double>();
        var skipped = new List<double>();
        for (int i = 0; i < losses.Count; i++)
        {
            if (double.IsFinite(losses[i]))
            {
                iterations.Add(i + 1);
                values.Add(scale(losses[i]));
            }
            else
            {
                skipped.Add(i + 1);
            }
        }

        int window = smoothingWindow ?? (losses.Count < 50 ? 0 : Math.Max(5, losses.Count / 50));
        bool smooth = window > 1 && finiteLosses.Length > window;
        var raw = plot.Add.ScatterLine(iterations.ToArray(), values.ToArray(), PointStyle.Target.WithOpacity(smooth ? 0.35 : 1));
        raw.LineWidth = 1;
        raw.LegendText = "loss per step";
        if (iterations.Count == 1) raw.MarkerSize = 5;
        if (smooth)
        {
            var (smoothX, smoothY) = MovingAverage(losses, window);
            var line = plot.Add.ScatterLine(smoothX, smoothY.Select(scale).ToArray(), Color.FromHex("#08306b"));
            line.LineWidth = 2;
            line.LegendText = $"moving average ({window} steps)";
        }
        if (valid.Length > 0)
        {
            var line = plot.Add.ScatterLine(valid.Select(v => (double)v.Iteration).ToArray(), valid.Select(v => scale(v.Loss)).ToArray(), PointStyle.Model);
            line.LineWidth = 2;
            line.MarkerSize = 6;
            line.MarkerShape = MarkerShape.FilledCircle;
            line.LegendText = "validation";
        }

        double low = values.Min(), high = values.Max();
        foreach (var v in valid)
        {
            low = Math.Min(low, scale(v.Loss));
            high = Math.Max(high, scale(v.Loss));
        }
        double span = high > low ? high - low : Math.Max(1e-3, Math.Abs(high) * 0.1);
        double bottom = low - 0.06 * span, top = high + 0.05 * span;
        if (markSkipped && skipped.Count > 0)
        {
            double y = low - 0.03 * span;
            var marks = plot.Add.Markers(skipped.ToArray(), Enumerable.Repeat(y, skipped.Count).ToArray(), MarkerShape.Eks, 6, Colors.Red);
            marks.LegendText = $"skipped step ({skipped.Count})";
        }
        plot.Axes.SetLimits(0, losses.Count + 1, bottom, top);
        if (log) plot.Axes.Left.TickGenerator = LogTicks(bottom, top);
        plot.XLabel("iteration");
        plot.YLabel(LossAxisLabel(log, unit));
        plot.Title(title ?? "training loss");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>The loss axis's label: the unit, when there is one, and the scale.</summary>
    internal static string LossAxisLabel(bool log, string? unit)
    {
        bool hasUnit = !string.IsNullOrWhiteSpace(unit);
        return log
            ? $"loss ({(hasUnit ? unit + ", " : "")}log scale)"
            : $"loss ({(hasUnit ? unit + "; " : "")}linear scale: some losses \u2264 0)";
    }

    /// <summary>Centred moving average over the finite losses in each window; windows without one are left out.</summary>
    private static (double[] X, double[] Y) MovingAverage(IReadOnlyList<double> losses, int window)
    {
        int half = window / 2;
        var x = new List<double>();
        var y = new List<double>();
        double sum = 0;
        int count = 0, start = 0, end = -1;
        for (int i = 0; i < losses.Count; i++)
        {
            int wantStart = Math.Max(0, i - half), wantEnd = Math.Min(losses.Count - 1, i - half + window - 1);
            while (end < wantEnd)
            {
                end++;
                if (double.IsFinite(losses[end])) { sum += losses[end]; count++; }
            }
            while (start < wantStart)
            {
                if (double.IsFinite(losses[start])) { sum -= losses[start]; count--; }
                start++;
            }
            if (count > 0 && double.IsFinite(losses[i]))
            {
                x.Add(i + 1);
                y.Add(sum / count);
            }
        }
        return (x.ToArray(), y.ToArray());
    }

    /// <summary>Ticks for an axis that shows log10 of the values, labelled with the values themselves at round numbers.</summary>
    internal static ScottPlot.TickGenerators.NumericManual LogTicks(double low, double high)
    {
        double decades = high - low;
        double[] mantissas = decades >= 3 ? new[] { 1.0 }
            : decades >= 1 ? new[] { 1.0, 2, 5 }
            : decades >= 0.3 ? new[] { 1.0, 1.5, 2, 3, 4, 5, 6, 7, 8, 9 }
            : Enumerable.Range(10, 90).Select(m => m / 10.0).ToArray();
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int first = (int)Math.Floor(low) - 1, last = (int)Math.Ceiling(high) + 1;
        var major = new List<double>();
        for (int exponent = first; exponent <= last; exponent++)
            foreach (double m in mantissas)
            {
                double value = m * Math.Pow(10, exponent);
                double position = Math.Log10(value);
                if (position >= low && position <= high) major.Add(value);
            }
        // Very narrow ranges: a few evenly spaced values instead.
        if (major.Count < 3)
        {
            major.Clear();
            for (int i = 0; i <= 4; i++) major.Add(Math.Pow(10, low + (high - low) * (0.1 + 0.2 * i)));
        }
        int stride = Math.Max(1, major.Count / 10);
        for (int i = 0; i < major.Count; i++)
        {
            double position = Math.Log10(major[i]);
            if (i % stride == 0) ticks.AddMajor(position, major[i].ToString("G3", CultureInfo.InvariantCulture));
            else ticks.AddMinor(position);
        }
        for (int exponent = first; exponent <= last; exponent++)
            for (int m = 1; m <= 9; m++)
            {
                double position = Math.Log10(m * Math.Pow(10, exponent));
                if (position >= low && position <= high) ticks.AddMinor(position);
            }
        return ticks;
    }
}
