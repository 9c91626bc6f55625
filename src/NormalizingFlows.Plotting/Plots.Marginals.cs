using System;
using System.Linq;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Targets;
using ScottPlot;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>
    /// The 1-D marginals, learned against true, one panel per axis: each is the density on a grid integrated over the other
    /// axis by the midpoint rule (the model's <c>q</c> and the target's <c>exp(logDensity)</c> on the same grid). An
    /// unnormalised target's marginal is normalised so that it integrates to 1 over the grid.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="target">The 2-D target.</param>
    /// <param name="model">The learned 2-D model (unconditional).</param>
    /// <param name="bounds">The rectangle to integrate over; null for the target's <see cref="ITarget.Bounds"/>.</param>
    /// <param name="steps">Grid cells along each axis.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The target or model is not 2-D, or a size is out of range.</exception>
    public static string Marginals(string path, ITarget target, Distribution model, Box? bounds = null, int steps = 400,
        int width = 1200, int height = 480)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.TwoDimensional(target, nameof(target));
        ModelChecks.TwoDimensional(model, nameof(model));
        bounds ??= target.Bounds;
        var p = DensityGrid.Evaluate(target, bounds, steps);
        var q = DensityGrid.Evaluate(model, bounds, steps);
        return Marginals(path, p, q, width, height);
    }

    /// <summary>The marginals of <see cref="Marginals(string, ITarget, Distribution, Box?, int, int, int)"/> from grids already evaluated.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="target">The target's density on the grid; null to draw only the learned marginals.</param>
    /// <param name="learned">The learned density on the same grid.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The grids differ in rectangle or steps, or a size is out of range.</exception>
    public static string Marginals(string path, DensityGrid? target, DensityGrid learned, int width = 1200, int height = 480)
    {
        Figure.CheckOutput(path, width, height);
        ArgumentNullException.ThrowIfNull(learned);
        if (target is not null && (learned.Steps != target.Steps || learned.Bounds != target.Bounds))
            throw new ArgumentException(
                $"Expected learned on the target's grid ({target.Bounds}, {target.Steps} steps); got {learned.Bounds}, {learned.Steps} steps.",
                nameof(learned));
        var plots = new Plot[2];
        for (int axis = 0; axis < 2; axis++)
        {
            var plot = Figure.NewPlot();
            var at = Enumerable.Range(0, learned.Steps).Select(i => axis == 0 ? learned.X(i) : learned.Y(i)).ToArray();
            string coordinate = axis == 0 ? Panels.XLabel : Panels.YLabel;
            if (target is not null)
            {
                var truth = target.Marginal(axis);
                string label = $"true p({coordinate})";
                if (!target.IsNormalized)
                {
                    double mass = truth.Sum() * (axis == 0 ? target.CellWidth : target.CellHeight);
                    if (mass > 0) truth = truth.Select(v => v / mass).ToArray();
                    label = $"true p({coordinate}), normalised on the grid";
                }
                var line = plot.Add.ScatterLine(at, truth, Colors.Black);
                line.LineWidth = 2;
                line.LegendText = label;
            }
            var learnedLine = plot.Add.ScatterLine(at, learned.Marginal(axis), PointStyle.Model);
            learnedLine.LineWidth = 2;
            learnedLine.LinePattern = LinePattern.Dashed;
            learnedLine.LegendText = $"learned q({coordinate})";
            plot.XLabel(coordinate);
            plot.YLabel("marginal density");
            plot.Title($"marginal of {coordinate}");
            plot.Axes.SetLimitsX(axis == 0 ? learned.Bounds.XMin : learned.Bounds.YMin, axis == 0 ? learned.Bounds.XMax : learned.Bounds.YMax);
            plot.Axes.AutoScaleY();
            plot.Axes.SetLimitsY(0, plot.Axes.GetLimits().Top);
            plot.ShowLegend(Alignment.UpperRight);
            plots[axis] = plot;
        }
        return Figure.SavePng(Figure.Grid(plots, 2), path, width, height);
    }
}
