using System;
using System.IO;
using ScottPlot;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>Argument checks and file output shared by every plot.</summary>
internal static class Figure
{
    /// <summary>Largest accepted width or height in pixels (a 16k image is already 1 GB of pixels at 4 bytes each).</summary>
    public const int MaxPixels = 16_384;

    /// <summary>A new plot that draws its text with the embedded font.</summary>
    public static Plot NewPlot()
    {
        var plot = new Plot();
        PlotFonts.Apply(plot);
        return plot;
    }

    /// <summary>Checks an output path (not empty) and an image size (positive, at most <see cref="MaxPixels"/>).</summary>
    public static void CheckOutput(string path, int width, int height)
    {
        CheckPath(path, nameof(path));
        CheckSize(width, height);
    }

    /// <summary>Checks an image size (positive, at most <see cref="MaxPixels"/>).</summary>
    public static void CheckSize(int width, int height)
    {
        if (width <= 0 || width > MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"Expected width between 1 and {MaxPixels} pixels; got {width}.");
        if (height <= 0 || height > MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(height), height, $"Expected height between 1 and {MaxPixels} pixels; got {height}.");
    }

    /// <summary>Checks that <paramref name="path"/> is a usable file path.</summary>
    public static void CheckPath(string path, string paramName)
    {
        ArgumentNullException.ThrowIfNull(path, paramName);
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"Expected a file path in {paramName}; got an empty string.", paramName);
    }

    /// <summary>Renders <paramref name="plot"/> to a PNG file (creating its folder), disposes it, and returns the file's full path.</summary>
    public static string SavePng(Plot plot, string path, int width, int height)
    {
        using (plot)
        {
            return Write(path, plot.GetImageBytes(width, height, ImageFormat.Png));
        }
    }

    /// <summary>Renders <paramref name="figure"/> to a PNG file (creating its folder), disposes its plots, and returns the file's full path.</summary>
    /// <param name="figure">The figure.</param>
    /// <param name="path">The file.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="palette">Write an 8-bit palette PNG (<see cref="PalettePng"/>): for pictures of flat colours, e.g. scatter plots.</param>
    public static string SavePng(Multiplot figure, string path, int width, int height, bool palette = false)
    {
        try
        {
            using var image = figure.Render(width, height);
            byte[] png = image.GetImageBytes(ImageFormat.Png);
            return Write(path, palette ? PalettePng.Encode(new[] { png })[0] : png);
        }
        finally
        {
            foreach (var plot in figure.GetPlots()) plot.Dispose();
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> (creating its folder) and returns the full path.
    /// The write is atomic (<see cref="NormalizingFlows.Internal.AtomicFile"/>): a failure leaves the old file, or none.</summary>
    public static string Write(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        NormalizingFlows.Internal.AtomicFile.Write(full, stream => stream.Write(bytes));
        return full;
    }

    /// <summary>A figure of <paramref name="plots"/> laid out in <paramref name="columns"/> columns (rows as needed).</summary>
    public static Multiplot Grid(Plot[] plots, int columns)
    {
        var figure = new Multiplot();
        figure.Reset(plots[0]);
        for (int i = 1; i < plots.Length; i++) figure.AddPlot(plots[i]);
        int rows = (plots.Length + columns - 1) / columns;
        figure.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        return figure;
    }
}
