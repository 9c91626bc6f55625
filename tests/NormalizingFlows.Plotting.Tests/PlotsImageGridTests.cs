using System;
using NormalizingFlows.Plotting.Tests.Support;
using SkiaSharp;
using TorchSharp;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsImageGridTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Lay_Out_Images_In_Rows_With_Each_Pixel_As_A_Block()
    {
        // Two 2x2 grey images: the first black, the second white except its top-left pixel.
        using var images = torch.tensor(new float[] { 0, 0, 0, 0, 0.5f, 1, 1, 1 }).reshape(2, 1, 2, 2);
        var picture = Picture.Load(Plots.ImageGrid(folder.File("sheet.png"), images, columns: 2, scale: 4));
        // Width: gap + 2 x (2 pixels x 4 + gap), gap = 2.
        Assert.Equal(2 + 2 * (8 + 2), picture.Width);
        Assert.Equal(2 + (8 + 2), picture.Height);
        Assert.Equal(new SKColor(0, 0, 0), picture[2, 2]);             // first image, black
        Assert.Equal(new SKColor(128, 128, 128), picture[12 + 1, 2]);  // second image, top-left pixel 0.5
        Assert.Equal(new SKColor(255, 255, 255), picture[12 + 5, 2]);  // its top-right pixel, white
    }

    [Fact]
    public void Should_Reject_Images_That_Are_Not_Count_Channels_Height_Width()
    {
        using var flat = torch.zeros(4, 64);
        Assert.Equal("images", Assert.Throws<ArgumentException>(() => Plots.ImageGrid(folder.File("x.png"), flat)).ParamName);
    }
}
