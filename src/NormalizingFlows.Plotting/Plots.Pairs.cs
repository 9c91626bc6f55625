using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Plotting.Internal;
using ScottPlot;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>Most columns <see cref="Pairs"/> accepts in <c>maxColumns</c> (8 columns are 28 panels).</summary>
    public const int MaxPairColumns = 8;

    /// <summary>
    /// Pair plots for data of two or more columns: model samples over data rows projected on every pair of the first
    /// <paramref name="maxColumns"/> columns, one panel per pair, each with the two columns' names on its axes. The view of
    /// each panel holds the central 99.6 % of the data along each axis. Written as an 8-bit palette PNG (a scatter of two
    /// colours needs no more), which keeps it small.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="learned">Model samples <c>[n, D]</c>, drawn on top; D &gt;= 2.</param>
    /// <param name="data">Data rows <c>[m, D]</c> with the same D.</param>
    /// <param name="names">One name per column; null for "x1" ... "xD".</param>
    /// <param name="maxColumns">How many leading columns to pair; 2 to <see cref="MaxPairColumns"/>.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels; null for square panels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The tensors are not <c>[n, D]</c> with n &gt; 0 and one D &gt;= 2, the names do not
    /// match the columns, or a count or size is out of range.</exception>
    public static string Pairs(string path, Tensor learned, Tensor data, IReadOnlyList<string>? names = null, int maxColumns = 4,
        int width = 1500, int? height = null)
    {
        Figure.CheckOutput(path, width, height ?? 1);
        ArgumentNullException.ThrowIfNull(learned);
        ArgumentNullException.ThrowIfNull(data);
        if (data.dim() != 2 || data.size(0) == 0 || data.size(1) < 2)
            throw new ArgumentException($"Expected data with shape [m, D], m > 0 and D >= 2; got [{string.Join(", ", data.shape)}].", nameof(data));
        if (learned.dim() != 2 || learned.size(0) == 0 || learned.size(1) != data.size(1))
            throw new ArgumentException(
                $"Expected learned with shape [n, {data.size(1)}] (the data's columns) and n > 0; got [{string.Join(", ", learned.shape)}].", nameof(learned));
        int features = (int)data.size(1);
        if (names is not null && names.Count != features)
            throw new ArgumentException($"Expected one name per column ({features}) in names; got {names.Count}.", nameof(names));
        if (maxColumns < 2 || maxColumns > MaxPairColumns)
            throw new ArgumentOutOfRangeException(nameof(maxColumns), maxColumns, $"Expected maxColumns between 2 and {MaxPairColumns}; got {maxColumns}.");
        var labels = names ?? Enumerable.Range(1, features).Select(i => $"x{i}").ToArray();

        var plots = PairPanels(learned, data, labels, Math.Min(features, maxColumns));
        int columns = Math.Min(3, plots.Length);
        int rows = (plots.Length + columns - 1) / columns;
        int imageHeight = height ?? Math.Min(Figure.MaxPixels, (int)Math.Round((double)width / columns * rows));
        Figure.CheckSize(width, imageHeight);
        return Figure.SavePng(Figure.Grid(plots, columns), path, width, imageHeight, palette: true);
    }

    /// <summary>One panel per pair <c>(i, j)</c>, <c>i &lt; j &lt; columns</c>: column i across, column j up.</summary>
    internal static Plot[] PairPanels(Tensor learned, Tensor data, IReadOnlyList<string> names, int columns)
    {
        var plots = new List<Plot>();
        for (int i = 0; i < columns; i++)
            for (int j = i + 1; j < columns; j++)
            {
                var (dx, dy) = Columns(data, i, j);
                var (lx, ly) = Columns(learned, i, j);
                var bounds = Panels.RobustBounds(dx, dy);
                var plot = Figure.NewPlot();
                PointStyle.Add(plot, dx, dy, PointStyle.Target, i == 0 && j == 1 ? $"data (n = {dx.Length:N0})" : null);
                PointStyle.Add(plot, lx, ly, PointStyle.Model, i == 0 && j == 1 ? $"model (n = {lx.Length:N0})" : null);
                plot.Axes.SetLimits(bounds.XMin, bounds.XMax, bounds.YMin, bounds.YMax);
                plot.XLabel(names[i]);
                plot.YLabel(names[j]);
                plot.Title($"{names[j]} against {names[i]}");
                if (i == 0 && j == 1) plot.ShowLegend(Alignment.UpperRight);
                plots.Add(plot);
            }
        return plots.ToArray();
    }

    /// <summary>Columns <paramref name="i"/> and <paramref name="j"/> of <paramref name="points"/> as arrays of doubles.</summary>
    private static (double[] X, double[] Y) Columns(Tensor points, int i, int j)
    {
        using var scope = torch.NewDisposeScope();
        using var index = torch.tensor(new long[] { i, j }, device: points.device);
        return ModelChecks.ToArrays(points.index_select(1, index));
    }
}
