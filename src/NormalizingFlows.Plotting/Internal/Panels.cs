using System;
using NormalizingFlows.Targets;
using ScottPlot;
using ScottPlot.Plottables;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>Pieces the plots share: heatmaps of grids, colour bars, axis set-up, point colours.</summary>
internal static class Panels
{
    /// <summary>Label of the first coordinate.</summary>
    public const string XLabel = "x\u2081";

    /// <summary>Label of the second coordinate.</summary>
    public const string YLabel = "x\u2082";

    /// <summary>Label of the first coordinate of the base space (a flow's <c>z</c>).</summary>
    public const string BaseXLabel = "z\u2081";

    /// <summary>Label of the second coordinate of the base space.</summary>
    public const string BaseYLabel = "z\u2082";

    /// <summary>The colour map for densities: viridis (perceptually uniform, readable in grey and by colour-blind viewers).</summary>
    public static IColormap Density => new ScottPlot.Colormaps.Viridis();

    /// <summary>The colour map for signed differences: cmocean's balance (diverging, white at the centre of a symmetric range).</summary>
    public static IColormap Difference => new ScottPlot.Colormaps.Balance();

    /// <summary>Draws values indexed <c>[row, column]</c> (row 0 at the bottom) as a heatmap that fills <paramref name="bounds"/>.</summary>
    public static Heatmap AddHeatmap(Plot plot, double[,] bottomUp, Box bounds, IColormap colormap, double min, double max)
    {
        int rows = bottomUp.GetLength(0), columns = bottomUp.GetLength(1);
        var topDown = new double[rows, columns];
        for (int row = 0; row < rows; row++)
            for (int column = 0; column < columns; column++)
                topDown[rows - 1 - row, column] = bottomUp[row, column];
        var heatmap = plot.Add.Heatmap(topDown);
        heatmap.Rectangle = new CoordinateRect(bounds.XMin, bounds.XMax, bounds.YMin, bounds.YMax);
        heatmap.Colormap = colormap;
        if (!(max > min)) max = min + 1;
        heatmap.ManualRange = new ScottPlot.Range(min, max);
        heatmap.NaNCellColor = Colors.LightGray;
        SetBounds(plot, bounds);
        return heatmap;
    }

    /// <summary>
    /// Draws values (row 0 at the bottom) as a heatmap on <paramref name="scale"/> (see <see cref="ColorScale"/>); the colour
    /// bar, when added, is labelled with the scale's label.
    /// </summary>
    public static Heatmap AddHeatmap(Plot plot, double[,] bottomUp, Box bounds, IColormap colormap, ColorScale scale, bool colorBar = true)
    {
        var heatmap = AddHeatmap(plot, scale.Display(bottomUp), bounds, colormap, scale.Low, scale.High);
        if (colorBar) AddColorBar(plot, heatmap, scale.Label);
        return heatmap;
    }

    /// <summary>Adds a colour bar on the right of the plot for <paramref name="source"/>.</summary>
    public static void AddColorBar(Plot plot, IHasColorAxis source, string label)
    {
        var bar = plot.Add.ColorBar(source, Edge.Right);
        bar.Label = label;
    }

    /// <summary>Labels the axes <c>x1</c> and <c>x2</c> (or <c>z1</c> and <c>z2</c> for the base space) and shows exactly
    /// <paramref name="bounds"/>.</summary>
    public static void SetBounds(Plot plot, Box bounds, bool baseSpace = false)
    {
        plot.XLabel(baseSpace ? BaseXLabel : XLabel);
        plot.YLabel(baseSpace ? BaseYLabel : YLabel);
        plot.Axes.SetLimits(bounds.XMin, bounds.XMax, bounds.YMin, bounds.YMax);
    }

    /// <summary>Gives the plot fixed margins so that the data areas of side-by-side panels line up.</summary>
    public static void FixMargins(Plot plot, float right = 150)
    {
        plot.Layout.Fixed(new PixelPadding(70, right, 55, 40));
    }

    /// <summary>
    /// A rectangle holding the central <c>1 - 2 * tail</c> of the points along each axis, padded by 5 % on every side:
    /// a view that a few far-out points do not squash.
    /// </summary>
    public static Box RobustBounds(double[] x, double[] y, double tail = 0.002)
    {
        var (xLow, xHigh) = Quantiles(x, tail);
        var (yLow, yHigh) = Quantiles(y, tail);
        return Padded(xLow, xHigh, yLow, yHigh);
    }

    /// <summary>The rectangle <c>[xLow, xHigh] x [yLow, yHigh]</c> padded by 5 % (and widened if it has no extent).</summary>
    public static Box Padded(double xLow, double xHigh, double yLow, double yHigh)
    {
        if (!double.IsFinite(xLow) || !double.IsFinite(xHigh)) (xLow, xHigh) = (-1, 1);
        if (!double.IsFinite(yLow) || !double.IsFinite(yHigh)) (yLow, yHigh) = (-1, 1);
        double padX = Math.Max((xHigh - xLow) * 0.05, 1e-6 + Math.Abs(xLow) * 1e-6);
        double padY = Math.Max((yHigh - yLow) * 0.05, 1e-6 + Math.Abs(yLow) * 1e-6);
        return new Box(xLow - padX, xHigh + padX, yLow - padY, yHigh + padY);
    }

    /// <summary>The <paramref name="tail"/> and <c>1 - tail</c> quantiles of the finite values (NaN, NaN when none is finite).</summary>
    public static (double Low, double High) Quantiles(double[] values, double tail)
    {
        var finite = Array.FindAll(values, double.IsFinite);
        if (finite.Length == 0) return (double.NaN, double.NaN);
        Array.Sort(finite);
        int last = finite.Length - 1;
        int low = (int)Math.Floor(tail * last), high = (int)Math.Ceiling((1 - tail) * last);
        return (finite[low], finite[high]);
    }

    /// <summary>A short, legible number for titles and tables.</summary>
    public static string Format(double value) =>
        value.ToString(Math.Abs(value) is >= 1e-3 and < 1e5 || value == 0 ? "0.####" : "0.###e0", System.Globalization.CultureInfo.InvariantCulture);
}
