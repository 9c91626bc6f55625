using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Image couplings: identity at start, which values each mask transforms, the conv net's context, and the checks.</summary>
public sealed class ImageCouplingTests
{
    private static ImageCoupling Perturbed(int c, int h, int w, ImageMask mask, int context = 0)
    {
        using var generator = new Generator(3);
        var layer = ImageCoupling.WithConvNet(c, h, w, mask, hiddenChannels: 8, residualBlocks: 1, contextFeatures: context, generator: generator);
        layer.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in layer.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        return layer;
    }

    /// <summary>For each value of a [c, h, w] image: whether the layer's forward changed it.</summary>
    private static bool[] Changed(ImageCoupling layer, long c, long h, long w)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(new[] { 4, c, h, w }, dtype: ScalarType.Float64, generator: new Generator(5));
        var y = layer.Forward(x).Output;
        return y.sub(x).abs().amax(0).reshape(-1).gt(1e-12).data<bool>().ToArray();
    }

    [Theory]
    [InlineData(ImageMask.CheckerboardEven)]
    [InlineData(ImageMask.CheckerboardOdd)]
    [InlineData(ImageMask.FirstChannels)]
    [InlineData(ImageMask.LastChannels)]
    public void Should_Be_The_Identity_When_Fresh(ImageMask mask)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        using var layer = ImageCoupling.WithConvNet(2, 4, 4, mask, hiddenChannels: 8, generator: generator);
        var x = torch.randn(3, 2, 4, 4);
        var (y, logAbsDet) = layer.Forward(x);
        Assert.Equal(0.0, y.sub(x).abs().max().ToDouble());
        Assert.Equal(0.0, logAbsDet.abs().max().ToDouble());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Should_Transform_Exactly_One_Checkerboard_Colour_In_Every_Channel(int parity)
    {
        using var layer = Perturbed(2, 3, 4, parity == 0 ? ImageMask.CheckerboardEven : ImageMask.CheckerboardOdd);
        var changed = Changed(layer, 2, 3, 4);
        for (int k = 0; k < changed.Length; k++)
        {
            int pixel = k % 12, i = pixel / 4, j = pixel % 4;
            Assert.True(changed[k] == ((i + j) % 2 == parity), $"value {k} (row {i}, column {j}): changed = {changed[k]}.");
        }
    }

    [Theory]
    [InlineData(ImageMask.FirstChannels, new[] { true, true, false })]
    [InlineData(ImageMask.LastChannels, new[] { false, true, true })]
    public void Should_Transform_Half_The_Channels_Rounded_Up(ImageMask mask, bool[] expected)
    {
        using var layer = Perturbed(3, 2, 2, mask);
        var changed = Changed(layer, 3, 2, 2);
        var perChannel = Enumerable.Range(0, 3).Select(c => changed.Skip(4 * c).Take(4).Distinct().Single()).ToArray();
        Assert.Equal(expected, perChannel);
    }

    [Fact]
    public void Should_Condition_On_Context_Given_As_Constant_Channels()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Perturbed(2, 2, 2, ImageMask.LastChannels, context: 2);
        var x = torch.randn(new long[] { 3, 2, 2, 2 }, dtype: ScalarType.Float64);
        var context = torch.randn(new long[] { 3, 2 }, dtype: ScalarType.Float64);
        var y1 = layer.Forward(x, context).Output;
        var y2 = layer.Forward(x, context.add(1)).Output;
        Assert.Equal(0.0, y1.narrow(1, 0, 1).sub(y2.narrow(1, 0, 1)).abs().max().ToDouble());
        Assert.True(y1.narrow(1, 1, 1).sub(y2.narrow(1, 1, 1)).abs().max().ToDouble() > 1e-6);
    }

    [Fact]
    public void Should_Name_The_Shape_When_A_Channel_Mask_Gets_One_Channel()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageCoupling.WithConvNet(1, 4, 4, ImageMask.LastChannels));
        Assert.Equal("mask", error.ParamName);
        Assert.Contains("[1, 4, 4]", error.Message);
        Assert.Contains("squeeze", error.Message);
    }

    [Fact]
    public void Should_Name_Both_Widths_When_The_Conditioner_Does_Not_Fit()
    {
        using var narrow = new ConvNet(1, 4, hiddenChannels: 4);
        var inError = Assert.Throws<ArgumentException>(() => new ImageCoupling(4, 2, 2, ImageMask.LastChannels, narrow, AffineTransform.Instance));
        Assert.Equal("conditioner", inError.ParamName);
        Assert.Contains("must take 2 input channels; it takes 1", inError.Message);
        using var wide = new ConvNet(2, 6, hiddenChannels: 4);
        var outError = Assert.Throws<ArgumentException>(() => new ImageCoupling(4, 2, 2, ImageMask.LastChannels, wide, AffineTransform.Instance));
        Assert.Contains("4 output channels", outError.Message);
        Assert.Contains("gives 6", outError.Message);
    }
}
