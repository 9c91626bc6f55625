using System;
using System.Collections.Generic;
using System.Globalization;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>
/// The colour scale of a heatmap, chosen from its values: the one decision every density panel goes through, so that a
/// panel stays readable when one spot dominates (a learned density with a sharp peak) or much of the mass is spread thin
/// (long tails), and the colour bar's label says which scale was used.
/// </summary>
/// <remarks>
/// <para>The rule, for non-negative values (densities, counts): linear from 0 to the maximum, unless</para>
/// <list type="bullet">
/// <item>one spot dominates: the maximum exceeds <see cref="PeakRatio"/> times the <see cref="ClipQuantile"/> quantile of
/// the cells. The scale is then clipped at that quantile (label "..., clipped at 99th percentile"), unless the clipped
/// scale would hide much: more than <see cref="ClippedMass"/> of the total above its top (a peak that holds most of the
/// mass, or a sharp core with long tails), or a quantile of 0 (almost every cell empty next to a peak); or</item>
/// <item>the tails carry the picture: more than <see cref="HiddenMass"/> of the total lies in cells drawn in the bottom
/// <see cref="DarkFraction"/> of the (possibly clipped) scale, i.e. nearly in the colour of an empty cell.</item>
/// </list>
/// <para>In those two cases the scale is the log density over the <see cref="LogDepth"/> nats below the maximum (label
/// "log ...").</para>
/// <para>Signed values (differences) are linear and symmetric around 0, clipped at the quantile of the absolute values by
/// the same peak rule; a logarithm has no meaning there.</para>
/// </remarks>
internal sealed class ColorScale
{
    /// <summary>A maximum above this many times the <see cref="ClipQuantile"/> quantile counts as one dominating spot.</summary>
    public const double PeakRatio = 5;

    /// <summary>The quantile a clipped scale stops at.</summary>
    public const double ClipQuantile = 0.99;

    /// <summary>Cells below this fraction of the scale's top are drawn almost in the colour of an empty cell.</summary>
    public const double DarkFraction = 0.05;

    /// <summary>More than this share of the total in nearly-empty-looking cells picks the log scale.</summary>
    public const double HiddenMass = 0.2;

    /// <summary>A clipped scale may leave at most this share of the total above its top; beyond it, the log scale.</summary>
    public const double ClippedMass = 0.5;

    /// <summary>How far below the largest value (in nats, natural log) a log scale reaches: about 4.3 decades.</summary>
    public const double LogDepth = 10;

    private ColorScale(ColorScaleKind kind, double low, double high, string label)
    {
        Kind = kind;
        Low = low;
        High = high;
        Label = label;
    }

    /// <summary>Linear, clipped or log.</summary>
    public ColorScaleKind Kind { get; }

    /// <summary>The bottom of the colour range, in the units <see cref="Display"/> returns.</summary>
    public double Low { get; }

    /// <summary>The top of the colour range, in the units <see cref="Display"/> returns.</summary>
    public double High { get; }

    /// <summary>The colour bar's label: the quantity, with the scale when it is not linear.</summary>
    public string Label { get; }

    /// <summary>The label's suffix for a clipped scale, e.g. ", clipped at 99th percentile".</summary>
    public static string ClippedSuffix => $", clipped at {(ClipQuantile * 100).ToString("0.#", CultureInfo.InvariantCulture)}th percentile";

    /// <summary>
    /// Chooses the scale for non-negative values (one or more arrays that share it, e.g. <c>p</c> and <c>q</c> on one scale).
    /// </summary>
    /// <param name="quantity">The colour bar's label on a linear scale, e.g. "density".</param>
    /// <param name="logQuantity">The label on a log scale; null for "log " + <paramref name="quantity"/>.</param>
    /// <param name="values">The arrays; NaN and infinite cells are ignored, negative cells count as 0.</param>
    public static ColorScale Choose(string quantity, string? logQuantity, params double[][,] values)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        ArgumentNullException.ThrowIfNull(values);
        var cells = new List<double>();
        double max = 0, total = 0;
        foreach (var array in values)
            foreach (double raw in array)
            {
                if (!double.IsFinite(raw)) continue;
                double v = Math.Max(0, raw);
                cells.Add(v);
                max = Math.Max(max, v);
                total += v;
            }
        if (!(max > 0)) return new ColorScale(ColorScaleKind.Linear, 0, 1, quantity);

        double quantile = Quantile(cells, ClipQuantile);
        bool peak = max > PeakRatio * quantile;
        double top = peak ? quantile : max;
        double hidden = 0, above = 0;
        if (top > 0)
            foreach (double v in cells)
            {
                if (v < DarkFraction * top) hidden += v;
                else if (v > top) above += v - top;
            }
        if (top > 0 && hidden <= HiddenMass * total && above <= ClippedMass * total)
        {
            return peak
                ? new ColorScale(ColorScaleKind.Clipped, 0, top, quantity + ClippedSuffix)
                : new ColorScale(ColorScaleKind.Linear, 0, max, quantity);
        }

        double high = Math.Log(max);
        double low = high - LogDepth;
        double smallest = double.PositiveInfinity;
        foreach (double v in cells)
            if (v > 0) smallest = Math.Min(smallest, v);
        low = Math.Max(low, Math.Log(smallest));
        if (!(high > low)) low = high - 1;
        return new ColorScale(ColorScaleKind.Log, low, high, logQuantity ?? "log " + quantity);
    }

    /// <summary>
    /// Chooses a scale symmetric around 0 for signed values: linear over <c>[-extent, extent]</c> with the extent the largest
    /// absolute value, or clipped at the <see cref="ClipQuantile"/> quantile of the absolute values when the largest exceeds
    /// <see cref="PeakRatio"/> times it.
    /// </summary>
    /// <param name="quantity">The colour bar's label, e.g. "difference q(x) - p(x)".</param>
    /// <param name="values">The values; NaN and infinite cells are ignored.</param>
    public static ColorScale ChooseSymmetric(string quantity, double[,] values)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        ArgumentNullException.ThrowIfNull(values);
        var cells = new List<double>();
        double extent = 0;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            cells.Add(Math.Abs(v));
            extent = Math.Max(extent, Math.Abs(v));
        }
        if (extent == 0) return new ColorScale(ColorScaleKind.Linear, -1e-12, 1e-12, quantity);
        double quantile = Quantile(cells, ClipQuantile);
        if (quantile > 0 && extent > PeakRatio * quantile)
            return new ColorScale(ColorScaleKind.Clipped, -quantile, quantile, quantity + ClippedSuffix);
        return new ColorScale(ColorScaleKind.Linear, -extent, extent, quantity);
    }

    /// <summary>The values as the heatmap draws them: clamped to the range, or their logarithm (0 and below at the bottom);
    /// NaN stays NaN.</summary>
    public double[,] Display(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        var result = new double[rows, columns];
        for (int row = 0; row < rows; row++)
            for (int column = 0; column < columns; column++)
            {
                double v = values[row, column];
                if (double.IsNaN(v)) { result[row, column] = v; continue; }
                if (Kind == ColorScaleKind.Log) v = v > 0 ? Math.Log(v) : double.NegativeInfinity;
                result[row, column] = Math.Clamp(v, Low, High);
            }
        return result;
    }

    /// <summary>The <paramref name="q"/> quantile of the values (the nearest rank from below).</summary>
    private static double Quantile(List<double> cells, double q)
    {
        if (cells.Count == 0) return 0;
        var sorted = cells.ToArray();
        Array.Sort(sorted);
        return sorted[(int)Math.Floor(q * (sorted.Length - 1))];
    }
}
