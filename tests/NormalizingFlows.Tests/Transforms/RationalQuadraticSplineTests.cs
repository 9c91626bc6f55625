using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Transforms;

/// <summary>The rational-quadratic spline: identity at zero, monotonic, invertible, exact log-derivative, and finite on, near and far beyond its bounds.</summary>
public sealed class RationalQuadraticSplineTests
{
    private const double Bound = 3.0;

    public static IEnumerable<object[]> DTypesAndDirections =>
        from dtype in new[] { ScalarType.Float32, ScalarType.Float64 }
        from inverse in new[] { false, true }
        select new object[] { dtype, inverse };

    private static Tensor RandomParameters(RationalQuadraticSpline spline, long count, ScalarType dtype, long seed = 11)
    {
        using var generator = new Generator((ulong)seed);
        return torch.randn(new long[] { count, spline.ParametersPerFeature }, dtype: ScalarType.Float64, generator: generator).mul(1.5).to(dtype);
    }

    /// <summary>The bound, the next representable values on either side, the other bound and its neighbours, 0, and values far outside.</summary>
    private static Tensor EdgeInputs(ScalarType dtype)
    {
        double[] values;
        if (dtype == ScalarType.Float32)
        {
            float b = (float)Bound;
            values = new[] { b, MathF.BitDecrement(b), MathF.BitIncrement(b), -b, MathF.BitIncrement(-b), MathF.BitDecrement(-b),
                0f, b * 1.0001f, -b * 1.0001f, 1e6f, -1e6f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue }.Select(v => (double)v).ToArray();
        }
        else
        {
            values = new[] { Bound, Math.BitDecrement(Bound), Math.BitIncrement(Bound), -Bound, Math.BitIncrement(-Bound), Math.BitDecrement(-Bound),
                0.0, Bound * 1.0001, -Bound * 1.0001, 1e6, -1e6, 1e300, -1e300, double.MaxValue, -double.MaxValue };
        }
        return torch.tensor(values, dtype: ScalarType.Float64).to(dtype);
    }

    private static double[] ToDoubles(Tensor t) => t.detach().to(ScalarType.Float64).data<double>().ToArray();

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Should_Be_Identity_When_Parameters_Are_Zero(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 7, bound: Bound);
        var x = torch.linspace(-5, 5, 101, dtype: dtype);
        var parameters = torch.zeros(new long[] { 101, spline.ParametersPerFeature }, dtype: dtype);
        double tolerance = dtype == ScalarType.Float32 ? 1e-5 : 1e-12;
        foreach (var (y, logAbsDet) in new[] { spline.Forward(x, parameters), spline.Inverse(x, parameters) })
        {
            Assert.True(y.sub(x).abs().max().ToDouble() < tolerance, "Zero parameters should give y = x.");
            Assert.True(logAbsDet.abs().max().ToDouble() < tolerance, "Zero parameters should give a zero log-det.");
        }
    }

    [Theory]
    [MemberData(nameof(DTypesAndDirections))]
    public void Should_Give_Finite_Values_And_Gradients_On_Near_And_Beyond_The_Bound(ScalarType dtype, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 6, bound: Bound);
        var input = EdgeInputs(dtype).requires_grad_(true);
        var parameters = RandomParameters(spline, input.shape[0], dtype).requires_grad_(true);
        var (output, logAbsDet) = inverse ? spline.Inverse(input, parameters) : spline.Forward(input, parameters);
        Assert.Equal(dtype, output.dtype);
        Assert.True(output.isfinite().all().ToBoolean(), $"Non-finite output: {string.Join(", ", ToDoubles(output))}.");
        Assert.True(logAbsDet.isfinite().all().ToBoolean(), $"Non-finite log-det: {string.Join(", ", ToDoubles(logAbsDet))}.");
        // Finite, not overflowing, loss: the output scaled into range plus the log-det.
        output.div(input.detach().abs().clamp_min(1.0)).sum().add(logAbsDet.sum()).backward();
        Assert.True(input.grad!.isfinite().all().ToBoolean(), $"Non-finite input gradient: {string.Join(", ", ToDoubles(input.grad!))}.");
        Assert.True(parameters.grad!.isfinite().all().ToBoolean(), "Non-finite parameter gradient.");
        Assert.True(parameters.grad!.abs().sum().ToDouble() > 0, "The inputs inside the bound should reach the parameters.");

        var x = ToDoubles(input);
        var y = ToDoubles(output);
        var ld = ToDoubles(logAbsDet);
        double relative = dtype == ScalarType.Float32 ? 1e-6 : 1e-14;
        for (int i = 0; i < x.Length; i++)
        {
            if (Math.Abs(x[i]) > Bound)
            {
                Assert.Equal(x[i], y[i]);
                Assert.Equal(0.0, ld[i]);
            }
            else if (Math.Abs(x[i]) == Bound)
            {
                Assert.True(Math.Abs(y[i] - x[i]) <= 4 * relative * Bound, $"The bound {x[i]} should map to itself; got {y[i]}.");
            }
            // Just inside a bound the spline meets the identity tail with slope 1: no jump.
            if (Math.Abs(x[i]) >= Bound * 0.9999 && Math.Abs(x[i]) <= Bound * 1.0001)
                Assert.True(Math.Abs(y[i] - x[i]) <= 1e-3, $"Discontinuity at the bound: {x[i]} -> {y[i]}.");
        }
    }

    [Theory]
    [MemberData(nameof(DTypesAndDirections))]
    public void Should_Have_Unit_Slope_Exactly_On_The_Bound(ScalarType dtype, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 6, bound: Bound);
        var input = torch.tensor(new[] { -Bound, Bound, -Bound, Bound }, dtype: dtype).requires_grad_(true);
        var parameters = RandomParameters(spline, 4, dtype, seed: 14);
        var (output, logAbsDet) = inverse ? spline.Inverse(input, parameters) : spline.Forward(input, parameters);
        var slope = torch.autograd.grad(new[] { output.sum() }, new[] { input })[0];
        double tolerance = dtype == ScalarType.Float32 ? 1e-4 : 1e-10;
        // The boundary knots have derivative 1, matching the identity tails: autograd and the log-det both see slope 1.
        Assert.True(slope.sub(1.0).abs().max().ToDouble() < tolerance, $"Slope on the bound: {string.Join(", ", ToDoubles(slope))}.");
        Assert.True(logAbsDet.abs().max().ToDouble() < tolerance, $"Log-det on the bound: {string.Join(", ", ToDoubles(logAbsDet))}.");
    }

    [Theory]
    [MemberData(nameof(DTypesAndDirections))]
    public void Should_Recover_Edge_Inputs_When_Composed_With_Its_Inverse(ScalarType dtype, bool inverseFirst)
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 6, bound: Bound);
        var input = EdgeInputs(dtype);
        var parameters = RandomParameters(spline, input.shape[0], dtype);
        var (middle, first) = inverseFirst ? spline.Inverse(input, parameters) : spline.Forward(input, parameters);
        var (back, second) = inverseFirst ? spline.Forward(middle, parameters) : spline.Inverse(middle, parameters);
        double tolerance = dtype == ScalarType.Float32 ? 2e-5 : 1e-12;
        var x = ToDoubles(input);
        var r = ToDoubles(back);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(x[i] - r[i]) <= tolerance * Math.Max(1.0, Math.Abs(x[i])), $"Round trip of {x[i]} gave {r[i]}.");
        Assert.True(first.add(second).abs().max().ToDouble() <= tolerance * 10, "The two log-dets should cancel.");
    }

    [Fact]
    public void Should_Match_Autograd_Derivative_And_Round_Trip_Across_The_Interval()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 5, bound: Bound);
        var x = torch.linspace(-Bound - 1, Bound + 1, 801, dtype: ScalarType.Float64).requires_grad_(true);
        var parameters = RandomParameters(spline, 801, ScalarType.Float64, seed: 12);
        var (y, logAbsDet) = spline.Forward(x, parameters);
        var derivative = torch.autograd.grad(new[] { y.sum() }, new[] { x })[0];
        Assert.True(derivative.log().sub(logAbsDet).abs().max().ToDouble() < 1e-10, "Forward log-det should be log dy/dx.");
        var yIn = y.detach().clone().requires_grad_(true);
        var (back, inverseLogAbsDet) = spline.Inverse(yIn, parameters);
        // Rounding of y (a few ulps of the bound) is magnified by dx/dy = exp(-log-det) where the slope is small.
        var allowed = logAbsDet.detach().neg().exp().add(1.0).mul(1e-14 * Bound * 10);
        double roundTrip = back.sub(x.detach()).abs().sub(allowed).max().ToDouble();
        Assert.True(roundTrip <= 0, $"Inverse(Forward(x)) should be x to a few ulps times dx/dy; worst excess {roundTrip:E3}.");
        var inverseDerivative = torch.autograd.grad(new[] { back.sum() }, new[] { yIn })[0];
        var inverseError = inverseDerivative.log().sub(inverseLogAbsDet).abs();
        long worst = inverseError.argmax().ToInt64();
        Assert.True(inverseError.max().ToDouble() < 1e-10,
            $"Inverse log-det should be log dx/dy; at y = {yIn[worst].ToDouble()} got {inverseLogAbsDet[worst].ToDouble()} vs {inverseDerivative[worst].log().ToDouble()}.");
    }

    [Fact]
    public void Should_Be_Strictly_Increasing_And_Map_The_Interval_Onto_Itself()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 8, bound: Bound);
        using var generator = new Generator(13);
        var row = torch.randn(new long[] { 1, spline.ParametersPerFeature }, dtype: ScalarType.Float64, generator: generator).mul(2.0);
        var x = torch.linspace(-Bound, Bound, 2001, dtype: ScalarType.Float64);
        var (y, _) = spline.Forward(x, row.expand(2001, -1));
        var values = ToDoubles(y);
        for (int i = 1; i < values.Length; i++) Assert.True(values[i] > values[i - 1], $"Not increasing at {i}: {values[i - 1]} then {values[i]}.");
        Assert.Equal(-Bound, values[0], 12);
        Assert.Equal(Bound, values[^1], 12);
    }

    [Fact]
    public void Should_Keep_Bin_Sizes_And_Slopes_Above_Their_Minimums_When_Parameters_Are_Extreme()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 4, bound: 1.0);
        // Width, height and derivative logits of -1000 / +1000: one bin takes nearly everything, slopes hit their floor.
        var parameters = torch.tensor(new[] { 1000.0, -1000, -1000, -1000, -1000, 1000, -1000, -1000, -1000, 1000, -1000 }).reshape(1, 11).expand(9, -1);
        var x = torch.linspace(-1, 1, 9, dtype: ScalarType.Float64);
        var (y, logAbsDet) = spline.Forward(x, parameters);
        var (back, inverseLogAbsDet) = spline.Inverse(y, parameters);
        Assert.True(y.isfinite().all().ToBoolean() && logAbsDet.isfinite().all().ToBoolean());
        Assert.True(back.sub(x).abs().max().ToDouble() < 1e-6, "Round trip under extreme parameters.");
        Assert.True(logAbsDet.add(inverseLogAbsDet).abs().max().ToDouble() < 1e-6);
    }

    [Fact]
    public void Should_Take_Three_Parameters_Per_Bin_Less_One()
    {
        Assert.Equal(23, new RationalQuadraticSpline(bins: 8).ParametersPerFeature);
        Assert.Equal(5, new RationalQuadraticSpline(bins: 2).ParametersPerFeature);
    }

    [Fact]
    public void Should_Name_Expected_And_Actual_Shape_When_Parameters_Do_Not_Fit()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(bins: 4);
        var error = Assert.Throws<ArgumentException>(() => spline.Forward(torch.zeros(5, 3), torch.zeros(5, 3, 10)));
        Assert.Equal("parameters", error.ParamName);
        Assert.Contains("[5, 3, 11]", error.Message);
        Assert.Contains("[5, 3, 10]", error.Message);
    }

    [Fact]
    public void Should_Reject_Invalid_Settings()
    {
        Assert.Equal("bins", Assert.Throws<ArgumentOutOfRangeException>(() => new RationalQuadraticSpline(bins: 1)).ParamName);
        Assert.Equal("bound", Assert.Throws<ArgumentOutOfRangeException>(() => new RationalQuadraticSpline(bound: 0)).ParamName);
        Assert.Equal("bound", Assert.Throws<ArgumentOutOfRangeException>(() => new RationalQuadraticSpline(bound: double.NaN)).ParamName);
        var width = Assert.Throws<ArgumentOutOfRangeException>(() => new RationalQuadraticSpline(bins: 10, minBinWidth: 0.1));
        Assert.Equal("minBinWidth", width.ParamName);
        Assert.Contains("0.1", width.Message);
        Assert.Equal("minBinHeight", Assert.Throws<ArgumentOutOfRangeException>(() => new RationalQuadraticSpline(minBinHeight: -1)).ParamName);
        Assert.Equal("minDerivative", Assert.Throws<ArgumentOutOfRangeException>(() => new RationalQuadraticSpline(minDerivative: 1)).ParamName);
    }
}
