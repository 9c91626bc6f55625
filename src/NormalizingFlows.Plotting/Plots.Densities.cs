using System;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Targets;
using ScottPlot;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>
    /// Three panels side by side: the exact target density <c>p</c>, the learned density <c>q</c> (both on one colour scale
    /// with one colour bar) and their difference <c>q - p</c> (a diverging colour map symmetric around zero, with its own
    /// colour bar). For an unnormalised target the difference means nothing: the figure then has two panels, the target's
    /// <c>exp(logDensity - max)</c> (titled "unnormalised") and <c>q</c>, each with its own colour bar.
    /// Every colour scale is chosen from the values and named on its colour bar: linear; clipped at the 99th percentile when
    /// one spot dominates (a learned density with a sharp peak); or the log density when much of the mass would be drawn
    /// in the colour of an empty cell (long tails).
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="target">The 2-D target.</param>
    /// <param name="model">The learned 2-D model (unconditional).</param>
    /// <param name="bounds">The rectangle to show; null for the target's <see cref="ITarget.Bounds"/>.</param>
    /// <param name="steps">Grid cells along each axis.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The target or model is not 2-D, or a size is out of range.</exception>
    public static string Densities(string path, ITarget target, Distribution model, Box? bounds = null,
        int steps = DensityGrid.DefaultSteps, int width = 1500, int height = 480)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.TwoDimensional(target, nameof(target));
        ModelChecks.TwoDimensional(model, nameof(model));
        bounds ??= target.Bounds;
        var p = DensityGrid.Evaluate(target, bounds, steps);
        var q = DensityGrid.Evaluate(model, bounds, steps);
        return Densities(path, p, q, target.Name, width, height);
    }

    /// <summary>
    /// The comparison of <see cref="Densities(string, ITarget, Distribution, Box?, int, int, int)"/> from grids already
    /// evaluated (on the same rectangle with the same steps).
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="target">The target's density on the grid.</param>
    /// <param name="learned">The learned density on the same grid.</param>
    /// <param name="targetName">A name for the target in the first panel's title; may be null.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The grids differ in rectangle or steps, or a size is out of range.</exception>
    public static string Densities(string path, DensityGrid target, DensityGrid learned, string? targetName = null,
        int width = 1500, int height = 480)
    {
        Figure.CheckOutput(path, width, height);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(learned);
        if (learned.Steps != target.Steps || learned.Bounds != target.Bounds)
            throw new ArgumentException(
                $"Expected learned on the target's grid ({target.Bounds}, {target.Steps} steps); got {learned.Bounds}, {learned.Steps} steps.",
                nameof(learned));
        var plots = DensityPanels(target, learned, targetName);
        foreach (var plot in plots) Panels.FixMargins(plot);
        return Figure.SavePng(Figure.Grid(plots, plots.Length), path, width, height);
    }

    /// <summary>The learned density <c>q(x)</c> of a 2-D model alone, with a colour bar.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="model">The 2-D model (unconditional).</param>
    /// <param name="bounds">The rectangle to show.</param>
    /// <param name="steps">Grid cells along each axis.</param>
    /// <param name="title">The title; null for "learned density q(x)".</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The model is not 2-D, or a size is out of range.</exception>
    public static string Density(string path, Distribution model, Box bounds, int steps = DensityGrid.DefaultSteps,
        string? title = null, int width = 700, int height = 560)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.TwoDimensional(model, nameof(model));
        ArgumentNullException.ThrowIfNull(bounds);
        return Density(path, DensityGrid.Evaluate(model, bounds, steps), title ?? "learned density q(x)", width, height);
    }

    /// <summary>
    /// A 2-D target's density alone, with a colour bar: <c>exp(logDensity)</c>, or for an unnormalised target
    /// <c>exp(logDensity - max)</c> with "unnormalised" in the title.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="target">The 2-D target.</param>
    /// <param name="bounds">The rectangle to show; null for the target's <see cref="ITarget.Bounds"/>.</param>
    /// <param name="steps">Grid cells along each axis.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The target is not 2-D, or a size is out of range.</exception>
    public static string Density(string path, ITarget target, Box? bounds = null, int steps = DensityGrid.DefaultSteps,
        int width = 700, int height = 560)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.TwoDimensional(target, nameof(target));
        var grid = DensityGrid.Evaluate(target, bounds, steps);
        return Density(path, grid, $"target {target.Name}", width, height);
    }

    /// <summary>
    /// One density grid as a heatmap with a colour bar; a grid that is not normalised gets ", unnormalised" after the title.
    /// The colour scale (linear, clipped at the 99th percentile, or log density) is chosen from the values and named on the
    /// colour bar.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="grid">The density on a grid.</param>
    /// <param name="title">The title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public static string Density(string path, DensityGrid grid, string title, int width = 700, int height = 560)
    {
        Figure.CheckOutput(path, width, height);
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(title);
        return Figure.SavePng(DensityPlot(grid, title), path, width, height);
    }

    /// <summary>
    /// The panels of the comparison: p and q on one colour scale (chosen by <see cref="ColorScale"/> from both grids, its bar
    /// beside q) and q - p on a symmetric one; for an unnormalised target, the two densities each on their own scale.
    /// </summary>
    internal static Plot[] DensityPanels(DensityGrid target, DensityGrid learned, string? targetName)
    {
        string name = string.IsNullOrWhiteSpace(targetName) ? "" : $" ({targetName})";
        var bounds = target.Bounds;
        var pPlot = Figure.NewPlot();
        var qPlot = Figure.NewPlot();
        var pValues = target.ToArray();
        var qValues = learned.ToArray();
        if (target.IsNormalized)
        {
            var shared = ColorScale.Choose("density (shared scale)", "log density (shared scale)", pValues, qValues);
            Panels.AddHeatmap(pPlot, pValues, bounds, Panels.Density, shared, colorBar: false);
            pPlot.Title($"target p(x){name}");
            Panels.AddHeatmap(qPlot, qValues, bounds, Panels.Density, shared);
            qPlot.Title("learned q(x)");

            var difference = learned.Minus(target);
            var dPlot = Figure.NewPlot();
            Panels.AddHeatmap(dPlot, difference, bounds, Panels.Difference, ColorScale.ChooseSymmetric("difference q(x) \u2212 p(x)", difference));
            dPlot.Title("difference q(x) \u2212 p(x)");
            return new[] { pPlot, qPlot, dPlot };
        }
        Panels.AddHeatmap(pPlot, pValues, bounds, Panels.Density, UnnormalisedScale(pValues));
        pPlot.Title($"target{name}, unnormalised");
        Panels.AddHeatmap(qPlot, qValues, bounds, Panels.Density, ColorScale.Choose("density", null, qValues));
        qPlot.Title("learned q(x)");
        return new[] { pPlot, qPlot };
    }

    /// <summary>The scale of an unnormalised target's grid, <c>exp(log p - max)</c>.</summary>
    private static ColorScale UnnormalisedScale(double[,] values) =>
        ColorScale.Choose("exp(log p \u2212 max)", "log p \u2212 max", values);

    /// <summary>The single-panel density plot (for tests that map coordinates to pixels).</summary>
    internal static Plot DensityPlot(DensityGrid grid, string title)
    {
        var plot = Figure.NewPlot();
        var values = grid.ToArray();
        Panels.AddHeatmap(plot, values, grid.Bounds, Panels.Density, grid.IsNormalized ? ColorScale.Choose("density", null, values) : UnnormalisedScale(values));
        plot.Title(grid.IsNormalized ? title : $"{title}, unnormalised");
        return plot;
    }
}
