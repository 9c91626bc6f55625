using System;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Factor-out: the factored channels pass unchanged, the kept ones go through the inner bijector, and the checks.</summary>
public sealed class FactorOutTests
{
    [Fact]
    public void Should_Pass_Factored_Channels_Unchanged_And_Transform_Kept_Ones_With_Inner_LogDet()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(2);
        var inner = new ActNorm(2, 2, 2);
        using var layer = new FactorOut(inner, 3);
        inner.Initialize(torch.randn(new long[] { 50, 2, 2, 2 }, generator: generator).mul(3).add(1));
        var x = torch.randn(new long[] { 4, 3, 2, 2 }, generator: generator);
        var (y, logAbsDet) = layer.Inverse(x);
        var (expectedKept, expectedLogDet) = inner.Inverse(x.narrow(1, 0, 2).contiguous());
        Assert.Equal(0.0, y.narrow(1, 2, 1).sub(x.narrow(1, 2, 1)).abs().max().ToDouble());
        Assert.Equal(0.0, y.narrow(1, 0, 2).sub(expectedKept).abs().max().ToDouble());
        Assert.Equal(0.0, logAbsDet.sub(expectedLogDet).abs().max().ToDouble());
        Assert.Equal(2, layer.KeptChannels);
        Assert.Equal(1, layer.FactoredChannels);
    }

    [Fact]
    public void Should_Reject_An_Inner_Bijector_That_Changes_Shape()
    {
        var error = Assert.Throws<ArgumentException>(() => new FactorOut(new Squeeze(1, 2, 2), 2));
        Assert.Equal("inner", error.ParamName);
        Assert.Contains("[4, 1, 1]", error.Message);
        Assert.Contains("[1, 2, 2]", error.Message);
    }

    [Fact]
    public void Should_Reject_Keeping_Every_Channel()
    {
        var error = Assert.Throws<ArgumentException>(() => new FactorOut(new ActNorm(2, 2, 2), 2));
        Assert.Equal("channels", error.ParamName);
        Assert.Contains("got 2", error.Message);
    }

    [Fact]
    public void Should_Reject_An_Inner_Bijector_On_Flat_Features()
    {
        var error = Assert.Throws<ArgumentException>(() => new FactorOut(new ActNorm(4), 6));
        Assert.Contains("[4]", error.Message);
    }
}
