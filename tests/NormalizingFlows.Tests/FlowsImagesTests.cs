using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>The image presets: structure on digits-sized images, starting point, consistency of sampling and density, and size checks.</summary>
public sealed class FlowsImagesTests
{
    private static Tensor UnitImages(long count, long seed) =>
        torch.rand(new[] { count, 1L, 8, 8 }, dtype: ScalarType.Float32, generator: new Generator((ulong)seed)).mul(0.98).add(0.01);

    [Fact]
    public void Should_Be_The_Logit_Alone_When_Multiscale_RealNvp_Is_Fresh()
    {
        // Every coupling starts as the identity and every squeeze is undone at its level's base end, so a fresh flow is its logit.
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.MultiscaleRealNvp(1, 8, 8, scales: 3, stepsPerScale: 2, hiddenChannels: 8, seed: 1);
        using var logit = new LogitPreprocessing(1, 8, 8);
        var x = UnitImages(5, 2);
        var (z, logAbsDet) = flow.Bijector.Inverse(x);
        var (expected, expectedLogDet) = logit.Inverse(x);
        Assert.Equal(0.0, z.sub(expected).abs().max().ToDouble());
        Assert.True(logAbsDet.sub(expectedLogDet).abs().max().ToDouble() < 1e-4);
        Assert.Equal(new long[] { 1, 8, 8 }, flow.EventShape);
        Assert.IsType<StandardNormal>(flow.Base);
    }

    [Fact]
    public void Should_Run_Checkerboards_Before_The_First_Squeeze_And_Factor_Out_Half_When_Multiscale_RealNvp()
    {
        using var flow = Flows.MultiscaleRealNvp(1, 8, 8, scales: 3, stepsPerScale: 3, hiddenChannels: 8, seed: 1);
        var outer = Assert.IsType<Chain>(flow.Bijector);
        Assert.IsType<LogitPreprocessing>(outer.Layers[^1]);
        var scale1 = Assert.IsType<Chain>(outer.Layers[0]);
        // Listed base to data: [unsqueeze, factor-out, 3 channel couplings, squeeze, 3 checkerboard couplings].
        Assert.IsType<Invert>(scale1.Layers[0]);
        var factor = Assert.IsType<FactorOut>(scale1.Layers[1]);
        Assert.Equal(2, factor.KeptChannels);
        Assert.Equal(2, factor.FactoredChannels);
        Assert.All(scale1.Layers.Skip(2).Take(3), l => Assert.Contains(Assert.IsType<ImageCoupling>(l).Mask, new[] { ImageMask.FirstChannels, ImageMask.LastChannels }));
        Assert.IsType<Squeeze>(scale1.Layers[5]);
        Assert.All(scale1.Layers.Skip(6), l => Assert.Contains(Assert.IsType<ImageCoupling>(l).Mask, new[] { ImageMask.CheckerboardEven, ImageMask.CheckerboardOdd }));
        var scale2 = Assert.IsType<Chain>(factor.Inner);
        var scale3 = Assert.IsType<Chain>(Assert.IsType<FactorOut>(scale2.Layers[1]).Inner);
        Assert.Equal(new long[] { 4, 2, 2 }, scale3.EventShape);
        Assert.All(scale3.Layers, l => Assert.IsType<ImageCoupling>(l));
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 3)]
    public void Should_Agree_Between_Sampling_And_Density_When_Image_Presets(bool glow, int scales)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = glow
            ? Flows.GlowImage(1, 8, 8, scales: scales, stepsPerScale: 2, hiddenChannels: 8, seed: 3)
            : Flows.MultiscaleRealNvp(1, 8, 8, scales: scales, stepsPerScale: 2, hiddenChannels: 8, seed: 3);
        flow.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: new Generator(4)).mul(0.05));
        flow.eval();
        using var generator = new Generator(5);
        var (x, logProb) = flow.SampleWithLogProb(16, generator: generator);
        Assert.Equal(new long[] { 16, 1, 8, 8 }, x.shape);
        var again = flow.LogProb(x);
        Assert.True(again.sub(logProb).abs().max().ToDouble() < 1e-8, "log q of a sample differs between SampleWithLogProb and LogProb");
        Assert.True(logProb.isfinite().all().item<bool>());
    }

    [Fact]
    public void Should_Squeeze_First_At_Every_Level_When_Glow_Image()
    {
        using var flow = Flows.GlowImage(1, 8, 8, scales: 2, stepsPerScale: 2, hiddenChannels: 8, seed: 1);
        var level1 = Assert.IsType<Chain>(Assert.IsType<Chain>(flow.Bijector).Layers[0]);
        Assert.IsType<Squeeze>(level1.Layers[^1]);
        Assert.IsType<ActNorm>(level1.Layers[^2]);
        Assert.IsType<InvertibleConv1x1>(level1.Layers[^3]);
        Assert.Equal(new long[] { 4, 4, 4 }, Assert.IsType<ImageCoupling>(level1.Layers[^4]).EventShape);
        var level2 = Assert.IsType<Chain>(Assert.IsType<FactorOut>(level1.Layers[1]).Inner);
        Assert.Equal(new long[] { 2, 4, 4 }, level2.EventShape);
        Assert.Equal(new long[] { 8, 2, 2 }, level2.Layers[^1].EventShape);
    }

    [Fact]
    public void Should_Name_The_Shape_When_The_Image_Cannot_Be_Halved_Enough()
    {
        var error = Assert.Throws<ArgumentException>(() => Flows.MultiscaleRealNvp(1, 6, 6, scales: 3));
        Assert.Equal("scales", error.ParamName);
        Assert.Contains("[1, 6, 6]", error.Message);
        Assert.Contains("multiples of 4", error.Message);
        var glowError = Assert.Throws<ArgumentException>(() => Flows.GlowImage(1, 8, 8, scales: 4));
        Assert.Contains("multiples of 16", glowError.Message);
    }

    [Fact]
    public void Should_Give_The_Flat_Log_Density_On_Images_When_Standard_Normal_Has_An_Image_Shape()
    {
        using var scope = torch.NewDisposeScope();
        using var image = new StandardNormal(2, 3, 4);
        using var flat = new StandardNormal(24);
        var x = torch.randn(5, 2, 3, 4);
        Assert.True(image.LogProb(x).sub(flat.LogProb(x.reshape(5, 24))).abs().max().ToDouble() < 1e-5);
        Assert.Equal(new long[] { 7, 2, 3, 4 }, image.Sample(7).shape);
        Assert.Equal(new long[] { 2, 3, 4 }, new StandardNormal(new long[] { 2, 3, 4 }).EventShape);
    }
}
