using System;
using System.Collections.Generic;
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

    public static IEnumerable<object[]> SamplingConfigurations => new[]
    {
        new object[] { "affine", 4, new[] { 16, 16 }, 0, false, Activation.Relu, false },
        new object[] { "spline, reversed order", 5, new[] { 12, 12 }, 0, false, Activation.Tanh, true },
        new object[] { "residual, context", 3, new[] { 10, 10, 10 }, 2, true, Activation.Relu, false },
        new object[] { "spline, context", 4, new[] { 8 }, 3, false, Activation.LeakyRelu, true },
        new object[] { "one feature", 1, new[] { 4 }, 0, false, Activation.Relu, true },
    };

    [Theory]
    [MemberData(nameof(SamplingConfigurations))]
    public void Should_Sample_Without_Gradients_As_With_Them(string name, int features, int[] hidden, int context, bool residual, Activation activation, bool spline)
    {
        // Without gradients the layer fixes one feature per pass through that feature's sub-network only (Made.BeginRankPasses);
        // with gradients it runs the whole network D times. Both must give the same samples and log-determinants.
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11);
        IElementwiseTransform transform = spline ? new RationalQuadraticSpline(5, 3.0) : AffineTransform.Instance;
        var order = features > 1 && name.Contains("reversed", StringComparison.Ordinal) ? Made.ReversedOrder(features) : null;
        using var layer = MaskedAutoregressive.WithMade(features, hidden, context, transform, order, residual, activation, generator);
        layer.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in layer.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        var z = torch.randn(new long[] { 32, features }, dtype: ScalarType.Float64, generator: generator).mul(2.0);
        var c = context == 0 ? null : torch.randn(new long[] { 32, context }, dtype: ScalarType.Float64, generator: generator);
        var (expected, expectedLogDet) = layer.Forward(z, c);
        Assert.True(torch.is_grad_enabled());
        using var noGrad = torch.no_grad();
        var (actual, actualLogDet) = layer.Forward(z, c);
        Assert.True(actual.sub(expected).abs().max().ToDouble() < 1e-12, $"{name}: samples differ.");
        Assert.True(actualLogDet.sub(expectedLogDet).abs().max().ToDouble() < 1e-12, $"{name}: log-determinants differ.");
        // And the inverse (one pass of the whole network) undoes it.
        var (back, inverseLogDet) = layer.Inverse(actual, c);
        Assert.True(back.sub(z).abs().max().ToDouble() < 1e-9, $"{name}: the round trip is off.");
        Assert.True(inverseLogDet.add(actualLogDet).abs().max().ToDouble() < 1e-9, $"{name}: the inverse log-det is not the negative.");
    }
}
