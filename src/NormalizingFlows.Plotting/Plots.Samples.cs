using System;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Targets;
using ScottPlot;
using TorchSharp;
using static TorchSharp.torch;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>Above this many points <see cref="SampleStyle.Automatic"/> draws a 2-D histogram instead of a scatter.</summary>
    public const int HistogramThreshold = 20_000;

    /// <summary>
    /// 2-D points as a scatter or, for many points (or when asked), as a 2-D histogram: counts per cell of a
    /// <paramref name="bins"/> x <paramref name="bins"/> grid over <paramref name="bounds"/> with a colour bar.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="samples">Points of shape <c>[n, 2]</c>, n &gt; 0.</param>
    /// <param name="bounds">The rectangle to show; null for one that holds the central 99.6 % of the points along each axis.</param>
    /// <param name="title">The title; null for "samples".</param>
    /// <param name="style">Scatter, histogram, or chosen by the number of points.</param>
    /// <param name="bins">Histogram cells along each axis; 1 to 2000.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The samples are not <c>[n, 2]</c> with n &gt; 0, or a size is out of range.</exception>
    public static string Samples(string path, Tensor samples, Box? bounds = null, string? title = null,
        SampleStyle style = SampleStyle.Automatic, int bins = 200, int width = 700, int height = 600)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.Points(samples, nameof(samples));
        if (bins < 1 || bins > 2000)
            throw new ArgumentOutOfRangeException(nameof(bins), bins, $"Expected bins between 1 and 2000; got {bins}.");
        var (x, y) = ModelChecks.ToArrays(samples);
        bounds ??= Panels.RobustBounds(x, y);
        bool histogram = style == SampleStyle.Histogram || (style == SampleStyle.Automatic && x.Length > HistogramThreshold);
        var plot = Figure.NewPlot();
        string name = title ?? "samples";
        if (histogram)
        {
            var counts = Histogram2D(x, y, bounds, bins);
            Panels.AddHeatmap(plot, counts, bounds, Panels.Density, ColorScale.Choose("points per cell", "log points per cell", counts));
            plot.Title($"{name} (n = {x.Length:N0}, 2-D histogram)");
        }
        else
        {
            PointStyle.Add(plot, x, y, PointStyle.Target);
            Panels.SetBounds(plot, bounds);
            plot.Title($"{name} (n = {x.Length:N0})");
        }
        return Figure.SavePng(plot, path, width, height);
    }

    /// <summary>Draws <paramref name="count"/> samples from a 2-D target and plots them as <see cref="Samples(string, Tensor, Box?, string?, SampleStyle, int, int, int)"/> does.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="target">The 2-D target.</param>
    /// <param name="count">Number of samples; positive.</param>
    /// <param name="seed">Seed of the generator the samples are drawn with.</param>
    /// <param name="bounds">The rectangle to show; null for the target's <see cref="ITarget.Bounds"/>.</param>
    /// <param name="style">Scatter, histogram, or chosen by the number of points.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The target is not 2-D, the count is not positive, or a size is out of range.</exception>
    public static string Samples(string path, ITarget target, int count = 5_000, long seed = 0, Box? bounds = null,
        SampleStyle style = SampleStyle.Automatic, int width = 700, int height = 600)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.TwoDimensional(target, nameof(target));
        CheckCount(count);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var samples = target.Sample(count, generator, ScalarType.Float64);
        return Samples(path, samples, bounds ?? target.Bounds, $"samples of {target.Name}", style, 200, width, height);
    }

    /// <summary>
    /// Samples of the learned model over samples of the target, in two colours with a legend: where the model puts mass that
    /// the target does not, and the reverse.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="learned">Model samples <c>[n, 2]</c>, drawn on top.</param>
    /// <param name="target">Target samples <c>[m, 2]</c>.</param>
    /// <param name="bounds">The rectangle to show; null for one that holds the central 99.6 % of the target samples along each axis.</param>
    /// <param name="title">The title; null for "model samples over target samples".</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">Either tensor is not <c>[n, 2]</c> with n &gt; 0, or a size is out of range.</exception>
    public static string SamplesOverTarget(string path, Tensor learned, Tensor target, Box? bounds = null, string? title = null,
        int width = 700, int height = 600)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.Points(learned, nameof(learned));
        ModelChecks.Points(target, nameof(target));
        var (tx, ty) = ModelChecks.ToArrays(target);
        var (lx, ly) = ModelChecks.ToArrays(learned);
        bounds ??= Panels.RobustBounds(tx, ty);
        var plot = Figure.NewPlot();
        PointStyle.Add(plot, tx, ty, PointStyle.Target, $"target (n = {tx.Length:N0})");
        PointStyle.Add(plot, lx, ly, PointStyle.Model, $"model (n = {lx.Length:N0})");
        Panels.SetBounds(plot, bounds);
        plot.Title(title ?? "model samples over target samples");
        plot.ShowLegend(Alignment.UpperRight);
        return Figure.SavePng(plot, path, width, height);
    }

    /// <summary>
    /// Draws <paramref name="count"/> samples from the model (in evaluation mode, without gradients) and as many from the
    /// target, and plots them as <see cref="SamplesOverTarget(string, Tensor, Tensor, Box?, string?, int, int)"/> does.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="model">The learned 2-D model (unconditional).</param>
    /// <param name="target">The 2-D target.</param>
    /// <param name="count">Samples from each; positive.</param>
    /// <param name="seed">Seed of the generators the samples are drawn with.</param>
    /// <param name="bounds">The rectangle to show; null for the target's <see cref="ITarget.Bounds"/>.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The model or target is not 2-D, the count is not positive, or a size is out of range.</exception>
    public static string SamplesOverTarget(string path, Distribution model, ITarget target, int count = 2_000, long seed = 0,
        Box? bounds = null, int width = 700, int height = 600)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.TwoDimensional(model, nameof(model));
        ModelChecks.TwoDimensional(target, nameof(target));
        CheckCount(count);
        using var scope = torch.NewDisposeScope();
        using var targetGenerator = new Generator((ulong)seed);
        var targetSamples = target.Sample(count, targetGenerator, ScalarType.Float64);
        var modelSamples = SampleModel(model, count, seed);
        return SamplesOverTarget(path, modelSamples, targetSamples, bounds ?? target.Bounds,
            $"model samples over {target.Name} samples", width, height);
    }

    /// <summary>Draws <paramref name="count"/> samples from <paramref name="model"/> in evaluation mode, without gradients.</summary>
    internal static Tensor SampleModel(Distribution model, long count, long seed)
    {
        using var mode = ModelMode.Evaluation(model);
        using var noGrad = torch.no_grad();
        using var generator = new Generator((ulong)seed);
        return model.Sample(count, generator: generator);
    }

    private static void CheckCount(long count)
    {
        if (count < 1)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Expected a positive count; got {count}.");
    }

    private static double[,] Histogram2D(double[] x, double[] y, Box bounds, int bins)
    {
        var counts = new double[bins, bins];
        double cellWidth = bounds.Width / bins, cellHeight = bounds.Height / bins;
        for (int i = 0; i < x.Length; i++)
        {
            if (!bounds.Contains(x[i], y[i])) continue;
            int column = Math.Min(bins - 1, (int)((x[i] - bounds.XMin) / cellWidth));
            int row = Math.Min(bins - 1, (int)((y[i] - bounds.YMin) / cellHeight));
            counts[row, column]++;
        }
        return counts;
    }
}
