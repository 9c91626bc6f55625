using System;
using System.Linq;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Plotting.Tests.Support;
using SkiaSharp;

namespace NormalizingFlows.Plotting.Tests.Internal;

public sealed class PalettePngTests
{
    /// <summary>A full-colour PNG whose pixel (x, y) is <paramref name="color"/>(x, y).</summary>
    private static byte[] Png(int width, int height, Func<int, int, SKColor> color)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, color(x, y));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static byte ColourType(byte[] png) => AnimatedPng.ReadChunks(png).Single(c => c.Type == "IHDR").Data[9];

    [Fact]
    public void Should_Keep_Every_Pixel_When_The_Images_Use_At_Most_256_Colours()
    {
        var colours = Enumerable.Range(0, 40).Select(i => new SKColor((byte)(i * 6), (byte)(255 - i * 5), (byte)(i * 3 % 256))).ToArray();
        var first = Png(64, 48, (x, y) => colours[(x / 4 + y / 6) % 40]);
        var second = Png(64, 48, (x, y) => colours[(x * y) % 40]);
        var encoded = PalettePng.Encode(new[] { first, second });
        Assert.Equal(2, encoded.Count);
        Assert.All(encoded, png => Assert.Equal(3, ColourType(png)));
        Assert.Equal(Picture.Decode(first).Pixels, Picture.Decode(encoded[0]).Pixels);
        Assert.Equal(Picture.Decode(second).Pixels, Picture.Decode(encoded[1]).Pixels);
        // One palette for both (an APNG has one).
        var palettes = encoded.Select(png => AnimatedPng.ReadChunks(png).Single(c => c.Type == "PLTE").Data).ToArray();
        Assert.Equal(palettes[0], palettes[1]);
    }

    [Fact]
    public void Should_Draw_Each_Pixel_In_A_Near_Colour_When_The_Images_Use_Thousands()
    {
        // 16 384 distinct colours: a palette of at most 256, and every pixel close to where it was.
        var png = Png(128, 128, (x, y) => new SKColor((byte)(2 * x), (byte)(2 * y), (byte)((x + y) % 256)));
        var encoded = PalettePng.Encode(new[] { png })[0];
        Assert.Equal(3, ColourType(encoded));
        int paletteColours = AnimatedPng.ReadChunks(encoded).Single(c => c.Type == "PLTE").Data.Length / 3;
        Assert.InRange(paletteColours, 2, PalettePng.MaxColors);
        var before = Picture.Decode(png).Pixels;
        var after = Picture.Decode(encoded).Pixels;
        double error = 0;
        for (int i = 0; i < before.Length; i++)
            error += Math.Abs(before[i].Red - after[i].Red) + Math.Abs(before[i].Green - after[i].Green) + Math.Abs(before[i].Blue - after[i].Blue);
        error /= 3.0 * before.Length;
        Assert.True(error < 12, $"Mean error {error:F2} per channel.");
    }

    [Fact]
    public void Should_Throw_Naming_Pngs_When_The_Images_Differ_In_Size()
    {
        var a = Png(10, 10, (_, _) => SKColors.White);
        var b = Png(12, 10, (_, _) => SKColors.White);
        Assert.Throws<ArgumentException>("pngs", () => PalettePng.Encode(new[] { a, b }));
        Assert.Throws<ArgumentException>("pngs", () => PalettePng.Encode(Array.Empty<byte[]>()));
    }
}
