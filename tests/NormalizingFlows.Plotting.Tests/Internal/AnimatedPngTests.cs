using System;
using System.Linq;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Plotting.Tests.Support;
using SkiaSharp;

namespace NormalizingFlows.Plotting.Tests.Internal;

public sealed class AnimatedPngTests
{
    private static byte[] SolidPng(int width, int height, SKColor color)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(color);
        // A diagonal line so that frames are not trivially compressible.
        for (int i = 0; i < Math.Min(width, height); i++) bitmap.SetPixel(i, i, SKColors.Black);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Fact]
    public void Should_Compute_The_Png_Crc_Of_Known_Bytes()
    {
        // The CRC of an IEND chunk (type only, no data) is the constant every PNG ends with.
        Assert.Equal(0xAE426082u, AnimatedPng.Crc("IEND"u8));
        Assert.Equal(ApngFile.Crc("IHDR and more bytes"u8), AnimatedPng.Crc("IHDR and more bytes"u8));
    }

    [Fact]
    public void Should_Recover_Every_Frame_When_Decoding_The_Animation()
    {
        var colors = new[] { SKColors.Red, SKColors.Green, SKColors.Blue, SKColors.Yellow };
        var frames = colors.Select(c => SolidPng(40, 30, c)).ToArray();
        var apng = ApngFile.Read(AnimatedPng.Encode(frames, new[] { 100, 200, 300, 400 }, loops: 2));

        Assert.Equal(4, apng.DeclaredFrames);
        Assert.Equal(2, apng.Loops);
        Assert.Equal(4, apng.FrameControls.Count());
        Assert.Equal(new[] { 100.0, 200, 300, 400 }, apng.Delays);
        var sequence = apng.SequenceNumbers.ToArray();
        Assert.Equal(Enumerable.Range(0, sequence.Length), sequence);
        Assert.Equal("IHDR", apng.Chunks[0].Type);
        Assert.Equal("acTL", apng.Chunks[1].Type);

        var decoded = apng.Frames();
        Assert.Equal(4, decoded.Count);
        for (int i = 0; i < 4; i++)
        {
            var picture = Picture.Decode(decoded[i]);
            Assert.Equal(40, picture.Width);
            Assert.Equal(30, picture.Height);
            Assert.Equal(colors[i], picture[30, 5]);
            Assert.Equal(SKColors.Black, picture[7, 7]);
        }
    }

    [Fact]
    public void Should_Show_The_First_Frame_In_A_Decoder_Without_Animation_Support()
    {
        var bytes = AnimatedPng.Encode(new[] { SolidPng(20, 20, SKColors.Red), SolidPng(20, 20, SKColors.Blue) }, new[] { 50, 50 });
        var picture = Picture.Decode(bytes);
        Assert.Equal(SKColors.Red, picture[15, 3]);
    }

    [Fact]
    public void Should_Throw_Naming_Frames_When_They_Differ_In_Size()
    {
        var error = Assert.Throws<ArgumentException>("frames", () =>
            AnimatedPng.Encode(new[] { SolidPng(20, 20, SKColors.Red), SolidPng(21, 20, SKColors.Red) }, new[] { 50, 50 }));
        Assert.Contains("frame 1", error.Message);
    }

    [Fact]
    public void Should_Throw_When_A_Frame_Is_Not_A_Png_Or_A_Delay_Is_Out_Of_Range()
    {
        Assert.Throws<ArgumentException>("png", () => AnimatedPng.Encode(new[] { new byte[] { 1, 2, 3 } }, new[] { 50 }));
        Assert.Throws<ArgumentException>("frames", () => AnimatedPng.Encode(Array.Empty<byte[]>(), Array.Empty<int>()));
        Assert.Throws<ArgumentOutOfRangeException>("delaysMilliseconds", () => AnimatedPng.Encode(new[] { SolidPng(5, 5, SKColors.Red) }, new[] { 0 }));
    }
}
