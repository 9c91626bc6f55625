using System;
using NormalizingFlows.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Images;

/// <summary>Random patches (shape, every patch a window of the image, uniform positions, reproducible with a seed) and the
/// BSDS300 mean removal (mean-free, last value dropped, nothing else changed).</summary>
public sealed class PatchesTests
{
    /// <summary>An image whose every pixel value is unique: value = channel * 1000 + row * width + column.</summary>
    private static Tensor Numbered(int channels, int height, int width) =>
        torch.arange(height * width, dtype: ScalarType.Float32).view(1, height, width).add(torch.arange(channels, dtype: ScalarType.Float32).mul(1000).view(channels, 1, 1));

    [Fact]
    public void Should_Refuse_A_Count_Whose_Patches_Exceed_Memory_Before_Allocating()
    {
        using var scope = torch.NewDisposeScope();
        var image = Numbered(3, 64, 64);
        using var generator = new Generator(3);
        // int.MaxValue patches of 3 x 32 x 32 float32 values: 24 TiB, more than any machine this runs on.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Patches.Extract(image, 32, int.MaxValue, generator));
        Assert.Equal("count", e.ParamName);
        Assert.Contains("patches", e.Message);
        Assert.Contains("GiB", e.Message);
    }

    [Fact]
    public void Should_Cut_Windows_Of_The_Image_When_Extracting()
    {
        using var scope = torch.NewDisposeScope();
        const int height = 12, width = 15, size = 4;
        var image = Numbered(2, height, width);
        using var generator = new Generator(3);
        var patches = Patches.Extract(image, size, 200, generator);
        Assert.Equal(new long[] { 200, 2, size, size }, patches.shape);
        Assert.Equal(ScalarType.Float32, patches.dtype);
        for (int n = 0; n < 200; n++)
        {
            // The top-left value of channel 0 gives the position; the whole patch, every channel, must be that window.
            int corner = (int)patches[n, 0, 0, 0].ToSingle();
            int top = corner / width, left = corner % width;
            Assert.InRange(top, 0, height - size);
            Assert.InRange(left, 0, width - size);
            var window = image.narrow(1, top, size).narrow(2, left, size);
            Assert.True(Same(patches[n], window), $"patch {n} is not the window at ({top}, {left})");
        }
    }

    [Fact]
    public void Should_Draw_Every_Position_Equally_Often()
    {
        using var scope = torch.NewDisposeScope();
        // A 10 x 11 image and 8 x 8 patches: 3 x 4 = 12 positions.
        var image = Numbered(1, 10, 11);
        using var generator = new Generator(4);
        const int count = 24_000;
        var corners = Patches.Extract(image, 8, count, generator)[TensorIndex.Colon, 0, 0, 0].to(ScalarType.Int64);
        var counts = torch.bincount(corners, minlength: 110);
        int positions = 0;
        for (int top = 0; top < 10; top++)
            for (int left = 0; left < 11; left++)
            {
                long seen = counts[top * 11 + left].ToInt64();
                if (top <= 2 && left <= 3)
                {
                    positions++;
                    // Expected 2000 each; binomial standard deviation about 43: 5 standard deviations either side.
                    Assert.InRange(seen, 1785, 2215);
                }
                else Assert.Equal(0, seen);
            }
        Assert.Equal(12, positions);
    }

    [Fact]
    public void Should_Repeat_With_The_Same_Seed_And_Differ_With_Another()
    {
        using var scope = torch.NewDisposeScope();
        var image = Numbered(1, 64, 64);
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using var g3 = new Generator(8);
        var a = Patches.Extract(image, 8, 50, g1);
        var b = Patches.Extract(image, 8, 50, g2);
        var c = Patches.Extract(image, 8, 50, g3);
        Assert.True(Same(a, b), "the same seed gave different patches");
        Assert.False(Same(a, c), "another seed gave the same patches");
    }

    [Fact]
    public void Should_Take_The_Whole_Image_When_The_Patch_Is_As_Large()
    {
        using var scope = torch.NewDisposeScope();
        var image = Numbered(3, 5, 5);
        using var generator = new Generator(1);
        var patches = Patches.Extract(image, 5, 3, generator);
        for (int n = 0; n < 3; n++) Assert.True(Same(patches[n], image));
    }

    [Fact]
    public void Should_Remove_Each_Patch_Mean_And_Drop_The_Last_Value()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        var patches = torch.rand(new long[] { 100, 1, 8, 8 }, dtype: ScalarType.Float64, generator: generator).add(torch.arange(100, dtype: ScalarType.Float64).view(100, 1, 1, 1));
        var result = Patches.RemoveMean(patches);
        Assert.Equal(new long[] { 100, 63 }, result.shape);
        Assert.Equal(ScalarType.Float64, result.dtype);
        var flat = patches.view(100, 64);
        var means = flat.mean(new long[] { 1 }, keepdim: true);
        // The kept values are the first 63 mean-free pixels ...
        Assert.True(result.sub(flat.narrow(1, 0, 63).sub(means)).abs().max().ToDouble() < 1e-12);
        // ... and the dropped one is minus their sum: the mean-free patch is recovered exactly (up to rounding: values up to
        // 100, 64 of them summed, float64 epsilon 2.2e-16, so errors of order 1e-12).
        var last = result.sum(1).neg();
        Assert.True(last.sub(flat[TensorIndex.Colon, 63].sub(means.squeeze(1))).abs().max().ToDouble() < 1e-10);
    }

    [Fact]
    public void Should_Remove_The_Mean_Over_All_Channels_Of_A_Colour_Patch()
    {
        using var scope = torch.NewDisposeScope();
        var patch = torch.arange(12, dtype: ScalarType.Float32).view(1, 3, 2, 2);
        var result = Patches.RemoveMean(patch);
        Assert.Equal(new float[] { -5.5f, -4.5f, -3.5f, -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 4.5f }, result.data<float>().ToArray());
    }

    [Fact]
    public void Should_Name_The_Problem_When_Arguments_Are_Bad()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        var flat = Assert.Throws<ArgumentException>(() => Patches.Extract(torch.zeros(8, 8), 4, 10, generator));
        Assert.Equal("image", flat.ParamName);
        Assert.StartsWith("Expected image with shape [channels, height, width]; got [8, 8].", flat.Message);
        var large = Assert.Throws<ArgumentOutOfRangeException>(() => Patches.Extract(torch.zeros(1, 6, 9), 7, 10, generator));
        Assert.Equal("size", large.ParamName);
        Assert.Contains("from 1 to the image's smaller side (6 for an image of shape [1, 6, 9]); got 7", large.Message);
        var none = Assert.Throws<ArgumentOutOfRangeException>(() => Patches.Extract(torch.zeros(1, 6, 9), 2, 0, generator));
        Assert.Equal("count", none.ParamName);
        var single = Assert.Throws<ArgumentException>(() => Patches.RemoveMean(torch.zeros(5, 1)));
        Assert.Contains("at least 2 values per patch; got 1", single.Message);
        var integers = Assert.Throws<ArgumentException>(() => Patches.RemoveMean(torch.zeros(new long[] { 5, 4 }, dtype: ScalarType.Int64)));
        Assert.Contains("floating-point", integers.Message);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.AsSpan().SequenceEqual(b.shape) && a.eq(b).all().ToBoolean();
}
