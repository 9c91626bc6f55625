using System;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>The masked autoregressive layer: identity at start, argument checks, and its inverse as IAF.</summary>
public sealed class MaskedAutoregressiveTests
{
    [Fact]
    public void Should_Be_Identity_When_Fresh()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = MaskedAutoregressive.WithMade(3, new[] { 8, 8 }, transform: new RationalQuadraticSpline(4, 2.0));
        var x = torch.randn(20, 3).mul(3.0);
        foreach (var (y, logAbsDet) in new[] { layer.Forward(x), layer.Inverse(x) })
        {
            Assert.True(y.sub(x).abs().max().ToDouble() < 1e-5);
            Assert.True(logAbsDet.abs().max().ToDouble() < 1e-5);
        }
    }

    [Fact]
    public void Should_Reject_A_Network_Whose_Outputs_Do_Not_Fit_The_Transform()
    {
        using var made = new Made(3, 3, new[] { 8 });
        var error = Assert.Throws<ArgumentException>(() => new MaskedAutoregressive(made, AffineTransform.Instance));
        Assert.Equal("made", error.ParamName);
        Assert.Contains("2 parameters", error.Message);
        Assert.Contains("gives 3", error.Message);
    }

    [Fact]
    public void Should_Sample_In_One_Pass_And_Evaluate_In_Several_When_Inverted()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = MaskedAutoregressive.WithMade(4, new[] { 16 }, generator: new Generator(3));
        using (torch.no_grad())
            foreach (var p in layer.parameters()) p.add_(torch.randn(p.shape).mul(0.3));
        using var iaf = new Invert(layer);
        var z = torch.randn(10, 4);
        var (x, forwardLogDet) = iaf.Forward(z);
        var (expected, expectedLogDet) = layer.Inverse(z);
        Assert.Equal(0.0, x.sub(expected).abs().max().ToDouble());
        Assert.Equal(0.0, forwardLogDet.sub(expectedLogDet).abs().max().ToDouble());
        Assert.Same(layer, iaf.Inner);
        Assert.Equal(4, layer.Made.Features);
        Assert.Same(AffineTransform.Instance, layer.Transform);
    }
}
