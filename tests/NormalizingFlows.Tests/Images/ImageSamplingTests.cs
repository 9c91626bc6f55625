using System;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Images;

/// <summary>Sampling with a temperature: the base's spread scales with T, T = 1 is the model's own sampling, and the checks.</summary>
public sealed class ImageSamplingTests
{
    [Fact]
    public void Should_Scale_The_Base_Spread_By_The_Temperature()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        // A fresh coupling is the identity, so the samples are the tempered base draws themselves.
        using var flow = new Flow(new StandardNormal(1, 4, 4), ImageCoupling.WithConvNet(1, 4, 4, ImageMask.CheckerboardEven, hiddenChannels: 4, generator: generator));
        var samples = ImageSampling.Sample(flow, 4000, 0.5, generator);
        Assert.Equal(new long[] { 4000, 1, 4, 4 }, samples.shape);
        Assert.Equal(0.5, samples.to(ScalarType.Float64).std().ToDouble(), 2);
    }

    [Fact]
    public void Should_Equal_Ordinary_Sampling_At_Temperature_One()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.GlowImage(1, 4, 4, scales: 1, stepsPerScale: 1, hiddenChannels: 4, seed: 2);
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        var tempered = ImageSampling.Sample(flow, 5, 1.0, g1);
        var ordinary = flow.Sample(5, generator: g2);
        Assert.Equal(0.0, tempered.sub(ordinary).abs().max().ToDouble());
    }

    [Fact]
    public void Should_Reject_A_Base_That_Is_Not_Standard_Normal_And_A_Bad_Temperature()
    {
        using var flow = new Flow(new DiagonalGaussian(2), new ActNorm(2));
        var error = Assert.Throws<ArgumentException>(() => ImageSampling.Sample(flow, 3, 0.7));
        Assert.Equal("flow", error.ParamName);
        Assert.Contains("DiagonalGaussian", error.Message);
        using var normal = new Flow(new StandardNormal(2), new ActNorm(2));
        Assert.Equal("temperature", Assert.Throws<ArgumentOutOfRangeException>(() => ImageSampling.Sample(normal, 3, 0)).ParamName);
    }
}
