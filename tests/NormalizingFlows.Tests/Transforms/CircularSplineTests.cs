using System;
using System.Linq;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Transforms;

/// <summary>The circular spline: identity at zero, fixed ends with equal slopes, periodic, invertible, finite on the period boundary.</summary>
public sealed class CircularSplineTests
{
    private static Tensor RandomRows(CircularSpline spline, long count, ScalarType dtype, long seed = 21)
    {
        using var generator = new Generator((ulong)seed);
        var row = torch.randn(new long[] { 1, spline.ParametersPerFeature }, dtype: ScalarType.Float64, generator: generator).mul(1.5);
        return row.expand(count, -1).to(dtype);
    }

    [Fact]
    public void Should_Be_Identity_When_Parameters_Are_Zero()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new CircularSpline(bins: 6);
        var x = torch.linspace(-10, 10, 201, dtype: ScalarType.Float64);
        var parameters = torch.zeros(new long[] { 201, spline.ParametersPerFeature }, dtype: ScalarType.Float64);
        var (y, logAbsDet) = spline.Forward(x, parameters);
        Assert.True(y.sub(x).abs().max().ToDouble() < 1e-12);
        Assert.True(logAbsDet.abs().max().ToDouble() < 1e-12);
    }

    [Fact]
    public void Should_Fix_Both_Ends_With_Equal_Slopes()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new CircularSpline(bins: 5);
        var x = torch.tensor(new[] { -Math.PI, Math.PI }, dtype: ScalarType.Float64);
        var (y, logAbsDet) = spline.Forward(x, RandomRows(spline, 2, ScalarType.Float64));
        var values = y.data<double>().ToArray();
        var slopes = logAbsDet.data<double>().ToArray();
        Assert.Equal(-Math.PI, values[0], 12);
        Assert.Equal(Math.PI, values[1], 12);
        Assert.Equal(slopes[0], slopes[1], 12);
        Assert.True(Math.Abs(slopes[0]) > 1e-3, "The random parameters should give a slope other than 1 at the ends.");
    }

    [Fact]
    public void Should_Commute_With_Whole_Turns()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new CircularSpline(bins: 7);
        var x = torch.linspace(-Math.PI, Math.PI, 301, dtype: ScalarType.Float64);
        var parameters = RandomRows(spline, 301, ScalarType.Float64);
        var (y, logAbsDet) = spline.Forward(x, parameters);
        foreach (int turns in new[] { -3, -1, 1, 2 })
        {
            var (shifted, shiftedLogAbsDet) = spline.Forward(x.add(2 * Math.PI * turns), parameters);
            Assert.True(shifted.sub(y.add(2 * Math.PI * turns)).abs().max().ToDouble() < 1e-10, $"s(x + 2 pi * {turns}) should be s(x) + 2 pi * {turns}.");
            Assert.True(shiftedLogAbsDet.sub(logAbsDet).abs().max().ToDouble() < 1e-9, "The slope should repeat every turn.");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Should_Round_Trip_With_Finite_Gradients_Over_Several_Turns(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var spline = new CircularSpline(bins: 6);
        var grid = torch.linspace(-3 * Math.PI, 3 * Math.PI, 601, dtype: ScalarType.Float64);
        var edges = torch.tensor(new[] { -Math.PI, Math.PI, -3 * Math.PI, 3 * Math.PI, 0.0 }, dtype: ScalarType.Float64);
        var x = torch.cat(new[] { grid, edges }).to(dtype).requires_grad_(true);
        var parameters = RandomRows(spline, x.shape[0], dtype).clone().requires_grad_(true);
        var (y, logAbsDet) = spline.Forward(x, parameters);
        var (back, inverseLogAbsDet) = spline.Inverse(y, parameters);
        double tolerance = dtype == ScalarType.Float32 ? 1e-4 : 1e-10;
        Assert.True(back.sub(x).abs().max().ToDouble() < tolerance, "Inverse(Forward(x)) should be x.");
        Assert.True(logAbsDet.add(inverseLogAbsDet).abs().max().ToDouble() < tolerance, "The two log-dets should cancel.");
        back.sum().add(logAbsDet.sum()).backward();
        Assert.True(x.grad!.isfinite().all().ToBoolean(), "Non-finite input gradient.");
        Assert.True(parameters.grad!.isfinite().all().ToBoolean(), "Non-finite parameter gradient.");
    }

    [Fact]
    public void Should_Match_Autograd_Derivative()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new CircularSpline(bins: 4);
        var x = torch.linspace(-Math.PI, Math.PI, 401, dtype: ScalarType.Float64).requires_grad_(true);
        var (y, logAbsDet) = spline.Forward(x, RandomRows(spline, 401, ScalarType.Float64, seed: 22));
        var derivative = torch.autograd.grad(new[] { y.sum() }, new[] { x })[0];
        Assert.True(derivative.log().sub(logAbsDet).abs().max().ToDouble() < 1e-10);
    }

    [Fact]
    public void Should_Take_Three_Parameters_Per_Bin_And_Reject_Invalid_Settings()
    {
        Assert.Equal(24, new CircularSpline(bins: 8).ParametersPerFeature);
        Assert.Equal(3, new CircularSpline(bins: 1).ParametersPerFeature);
        Assert.Equal("bins", Assert.Throws<ArgumentOutOfRangeException>(() => new CircularSpline(bins: 0)).ParamName);
        Assert.Equal("minDerivative", Assert.Throws<ArgumentOutOfRangeException>(() => new CircularSpline(minDerivative: 0)).ParamName);
    }
}
