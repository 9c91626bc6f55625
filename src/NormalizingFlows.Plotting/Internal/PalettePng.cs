using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using SkiaSharp;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>
/// Re-encodes full-colour PNG images of one size as 8-bit palette PNGs that share one palette of at most 256 colours:
/// a third to a fifth of the bytes for pictures made of a few dozen flat colours (the trajectory's scatter plots), and one
/// palette for every frame of an animation, as APNG requires.
/// </summary>
/// <remarks>
/// The palette is every colour the images use when there are at most 256 (lossless); otherwise a median cut of the
/// images' colours weighted by their pixel counts, refined by two rounds of k-means, each pixel drawn in the nearest
/// palette colour. Only for pictures of flat colours: a smooth gradient (a heatmap) would show bands. Pixels that
/// are not opaque are blended onto white first (the plots are drawn on an opaque white figure).
/// </remarks>
internal static class PalettePng
{
    /// <summary>The most colours a palette holds (8-bit indices).</summary>
    public const int MaxColors = 256;

    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };

    /// <summary>Re-encodes <paramref name="pngs"/> (all the same size) with one shared palette.</summary>
    /// <exception cref="ArgumentException">No images, an image that does not decode, or images of different sizes.</exception>
    public static IReadOnlyList<byte[]> Encode(IReadOnlyList<byte[]> pngs)
    {
        ArgumentNullException.ThrowIfNull(pngs);
        if (pngs.Count == 0) throw new ArgumentException("Expected at least one image in pngs; got none.", nameof(pngs));
        int width = 0, height = 0;
        var histogram = new Dictionary<int, long>();
        for (int i = 0; i < pngs.Count; i++)
        {
            var (pixels, w, h) = Decode(pngs[i], i);
            if (i == 0) (width, height) = (w, h);
            else if (w != width || h != height)
                throw new ArgumentException($"Expected every image {width} x {height} like image 0; image {i} is {w} x {h}.", nameof(pngs));
            foreach (int rgb in pixels)
                histogram[rgb] = histogram.TryGetValue(rgb, out long n) ? n + 1 : 1;
        }
        int[] palette = BuildPalette(histogram);
        var nearest = new Dictionary<int, byte>(histogram.Count);
        foreach (int rgb in histogram.Keys) nearest[rgb] = (byte)Nearest(palette, rgb);

        var result = new byte[pngs.Count][];
        for (int i = 0; i < pngs.Count; i++)
        {
            var (pixels, _, _) = Decode(pngs[i], i);
            var indices = new byte[pixels.Length];
            for (int p = 0; p < pixels.Length; p++) indices[p] = nearest[pixels[p]];
            result[i] = Write(width, height, palette, indices);
        }
        return result;
    }

    /// <summary>The pixels of a PNG as <c>0xRRGGBB</c>, blended onto white where not opaque.</summary>
    private static (int[] Pixels, int Width, int Height) Decode(byte[] png, int index)
    {
        using var bitmap = SKBitmap.Decode(png)
            ?? throw new ArgumentException($"Image {index} does not decode as an image.", nameof(png));
        var colors = bitmap.Pixels;
        var pixels = new int[colors.Length];
        for (int i = 0; i < colors.Length; i++)
        {
            var c = colors[i];
            int a = c.Alpha;
            int r = c.Red, g = c.Green, b = c.Blue;
            if (a < 255)
            {
                r = (r * a + 255 * (255 - a) + 127) / 255;
                g = (g * a + 255 * (255 - a) + 127) / 255;
                b = (b * a + 255 * (255 - a) + 127) / 255;
            }
            pixels[i] = (r << 16) | (g << 8) | b;
        }
        return (pixels, bitmap.Width, bitmap.Height);
    }

    /// <summary>At most <see cref="MaxColors"/> colours for the histogram's colours (all of them when they fit).</summary>
    private static int[] BuildPalette(Dictionary<int, long> histogram)
    {
        if (histogram.Count <= MaxColors) return histogram.Keys.OrderBy(k => k).ToArray();

        // Median cut: split the box of colours with the most pixels times the widest channel range at the weighted median
        // of that channel, until there are MaxColors boxes; each box's centre is its pixel-weighted mean colour.
        var boxes = new List<ColourBox> { ColourBox.Of(histogram.Keys.ToArray(), histogram) };
        while (boxes.Count < MaxColors)
        {
            int split = -1;
            double bestScore = 0;
            for (int b = 0; b < boxes.Count; b++)
            {
                double score = (double)boxes[b].Weight * boxes[b].Range;
                if (boxes[b].Colours.Length > 1 && boxes[b].Range > 0 && score > bestScore) (split, bestScore) = (b, score);
            }
            if (split < 0) break;
            var (low, high) = boxes[split].Split(histogram);
            boxes[split] = low;
            boxes.Add(high);
        }
        var centres = boxes.Select(b => b.Mean(histogram)).ToArray();

        // Two rounds of k-means over the colours, weighted by their pixel counts.
        var colours = histogram.ToArray();
        for (int round = 0; round < 2; round++)
        {
            var sums = new double[centres.Length, 4];
            var rounded = centres.Select(Pack).ToArray();
            foreach (var (rgb, count) in colours)
            {
                int k = Nearest(rounded, rgb);
                sums[k, 0] += count;
                sums[k, 1] += count * ((rgb >> 16) & 255);
                sums[k, 2] += count * ((rgb >> 8) & 255);
                sums[k, 3] += count * (rgb & 255);
            }
            for (int k = 0; k < centres.Length; k++)
                if (sums[k, 0] > 0) centres[k] = new[] { sums[k, 1] / sums[k, 0], sums[k, 2] / sums[k, 0], sums[k, 3] / sums[k, 0] };
        }
        return centres.Select(Pack).Distinct().ToArray();
    }

    /// <summary>Colours (0xRRGGBB) in a box of the median cut, with their total pixel count and widest channel.</summary>
    private sealed record ColourBox(int[] Colours, long Weight, int Shift, int Range)
    {
        public static ColourBox Of(int[] colours, Dictionary<int, long> histogram)
        {
            long weight = 0;
            int bestShift = 16, bestRange = -1;
            foreach (int shift in new[] { 16, 8, 0 })
            {
                int min = 255, max = 0;
                foreach (int rgb in colours)
                {
                    int v = (rgb >> shift) & 255;
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
                if (max - min > bestRange) (bestShift, bestRange) = (shift, max - min);
            }
            foreach (int rgb in colours) weight += histogram[rgb];
            return new ColourBox(colours, weight, bestShift, bestRange);
        }

        /// <summary>The two halves at the pixel-weighted median of the widest channel (neither empty).</summary>
        public (ColourBox Low, ColourBox High) Split(Dictionary<int, long> histogram)
        {
            int shift = Shift;
            var sorted = Colours.OrderBy(rgb => (rgb >> shift) & 255).ThenBy(rgb => rgb).ToArray();
            long half = Weight / 2, running = 0;
            int cut = 1;
            for (int i = 0; i < sorted.Length - 1; i++)
            {
                running += histogram[sorted[i]];
                cut = i + 1;
                if (running >= half) break;
            }
            return (Of(sorted[..cut], histogram), Of(sorted[cut..], histogram));
        }

        /// <summary>The pixel-weighted mean colour, as red, green, blue.</summary>
        public double[] Mean(Dictionary<int, long> histogram)
        {
            double r = 0, g = 0, b = 0;
            foreach (int rgb in Colours)
            {
                long n = histogram[rgb];
                r += n * ((rgb >> 16) & 255);
                g += n * ((rgb >> 8) & 255);
                b += n * (rgb & 255);
            }
            return new[] { r / Weight, g / Weight, b / Weight };
        }
    }

    private static int Pack(double[] c) =>
        (int)Math.Round(Math.Clamp(c[0], 0, 255)) << 16 | (int)Math.Round(Math.Clamp(c[1], 0, 255)) << 8 | (int)Math.Round(Math.Clamp(c[2], 0, 255));

    /// <summary>The index of the palette colour nearest to <paramref name="rgb"/> (squared distance, weighted for the eye).</summary>
    private static int Nearest(int[] palette, int rgb)
    {
        int r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255;
        int best = 0;
        long bestDistance = long.MaxValue;
        for (int k = 0; k < palette.Length; k++)
        {
            int p = palette[k];
            long dr = r - ((p >> 16) & 255), dg = g - ((p >> 8) & 255), db = b - (p & 255);
            long distance = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
            if (distance < bestDistance)
            {
                (best, bestDistance) = (k, distance);
                if (distance == 0) break;
            }
        }
        return best;
    }

    /// <summary>An 8-bit palette PNG: IHDR (colour type 3), PLTE, IDAT (rows with filter 0, zlib at the smallest size), IEND.</summary>
    private static byte[] Write(int width, int height, int[] palette, byte[] indices)
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(0, 4), width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4, 4), height);
        header[8] = 8; // bit depth
        header[9] = 3; // colour type: palette
        AnimatedPng.WriteChunk(output, "IHDR", header);
        var plte = new byte[3 * palette.Length];
        for (int k = 0; k < palette.Length; k++)
        {
            plte[3 * k] = (byte)(palette[k] >> 16);
            plte[3 * k + 1] = (byte)(palette[k] >> 8);
            plte[3 * k + 2] = (byte)palette[k];
        }
        AnimatedPng.WriteChunk(output, "PLTE", plte);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                for (int row = 0; row < height; row++)
                {
                    zlib.WriteByte(0); // filter: none (the usual best for palette images)
                    zlib.Write(indices, row * width, width);
                }
            }
            AnimatedPng.WriteChunk(output, "IDAT", compressed.ToArray());
        }
        AnimatedPng.WriteChunk(output, "IEND", Array.Empty<byte>());
        return output.ToArray();
    }
}
