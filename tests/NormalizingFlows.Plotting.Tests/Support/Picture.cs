using System;
using System.Collections.Generic;
using SkiaSharp;

namespace NormalizingFlows.Plotting.Tests.Support;

/// <summary>A decoded image and the measures the tests use to tell a real picture from a blank one.</summary>
public sealed class Picture
{
    private Picture(SKBitmap bitmap)
    {
        Width = bitmap.Width;
        Height = bitmap.Height;
        Pixels = bitmap.Pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public SKColor[] Pixels { get; }

    public SKColor this[int x, int y] => Pixels[y * Width + x];

    public static Picture Load(string path)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidOperationException($"'{path}' does not decode as an image.");
        return new Picture(bitmap);
    }

    public static Picture Decode(byte[] bytes)
    {
        using var bitmap = SKBitmap.Decode(bytes) ?? throw new InvalidOperationException("The bytes do not decode as an image.");
        return new Picture(bitmap);
    }

    /// <summary>Variance of the luminance (0..255) over all pixels: 0 for a blank image.</summary>
    public double LuminanceVariance()
    {
        double sum = 0, sumSquares = 0;
        foreach (var p in Pixels)
        {
            double l = 0.2126 * p.Red + 0.7152 * p.Green + 0.0722 * p.Blue;
            sum += l;
            sumSquares += l * l;
        }
        double mean = sum / Pixels.Length;
        return sumSquares / Pixels.Length - mean * mean;
    }

    /// <summary>Number of distinct opaque colours.</summary>
    public int DistinctColors()
    {
        var set = new HashSet<uint>();
        foreach (var p in Pixels) set.Add((uint)p);
        return set.Count;
    }

    /// <summary>Asserts the size and that the picture has content (not one flat colour, more than a handful of colours).</summary>
    public void AssertPlot(int width, int height, int minColors = 50)
    {
        Assert.Equal(width, Width);
        Assert.Equal(height, Height);
        Assert.True(LuminanceVariance() > 50, $"The image looks blank: luminance variance {LuminanceVariance():F1}.");
        Assert.True(DistinctColors() >= minColors, $"The image has only {DistinctColors()} distinct colours.");
    }
}
