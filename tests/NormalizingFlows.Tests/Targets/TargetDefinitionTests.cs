using System;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Targets;

/// <summary>Each target's density is the one its documentation states, written out here independently in doubles.</summary>
public sealed class TargetDefinitionTests
{
    private static double[] LogDensity(ITarget target, params (double X, double Y)[] points)
    {
        using var scope = torch.NewDisposeScope();
        var flat = points.SelectMany(p => new[] { p.X, p.Y }).ToArray();
        return target.LogDensity(torch.tensor(flat, new long[] { points.Length, 2 }, ScalarType.Float64)).data<double>().ToArray();
    }

    private static double LogNormal(double x, double mean, double std) =>
        -0.5 * ((x - mean) / std) * ((x - mean) / std) - Math.Log(std) - 0.5 * Math.Log(2 * Math.PI);

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) < 1e-9 * (1 + Math.Abs(expected)), $"{what}: expected {expected}, got {actual}.");

    [Fact]
    public void Should_Give_Folded_Radial_Normal_Over_Circumference_For_Rings()
    {
        var rings = new Rings();
        var points = new[] { (1.5, 0.0), (0.3, -0.4), (-2.0, 2.0), (0.02, 0.0) };
        var logP = LogDensity(rings, points);
        for (int i = 0; i < points.Length; i++)
        {
            double r = Math.Sqrt(points[i].Item1 * points[i].Item1 + points[i].Item2 * points[i].Item2);
            double radial = new[] { 0.75, 1.5, 2.25, 3.0 }.Sum(rk => Math.Exp(LogNormal(r, rk, 0.1)) + Math.Exp(LogNormal(r, -rk, 0.1))) / 4;
            Close(Math.Log(radial / (2 * Math.PI * r)), logP[i], $"rings at {points[i]}");
        }
    }

    [Fact]
    public void Should_Give_Positive_Infinity_Not_NaN_At_Origin_For_Rings()
    {
        using var scope = torch.NewDisposeScope();
        var rings = new Rings();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var logP = rings.LogDensity(torch.zeros(new long[] { 1, 2 }, dtype: type)).to(ScalarType.Float64).ToDouble();
            Assert.True(double.IsPositiveInfinity(logP), $"log p(0) = {logP} in {type}, expected +inf.");
        }
    }

    [Fact]
    public void Should_Reject_Bad_Radii_For_Rings()
    {
        Assert.Equal("radii", Assert.Throws<ArgumentException>(() => new Rings(Array.Empty<double>(), 0.1)).ParamName);
        Assert.Equal("radii", Assert.Throws<ArgumentOutOfRangeException>(() => new Rings(new[] { 1.0, -2.0 }, 0.1)).ParamName);
        Assert.Equal("noise", Assert.Throws<ArgumentOutOfRangeException>(() => new Rings(new[] { 1.0 }, 0)).ParamName);
    }

    [Fact]
    public void Should_Place_Eight_Gaussians_On_Circle_Of_Radius_Two_Root_Two()
    {
        var target = new EightGaussians();
        double radius = 2 * Math.Sqrt(2), std = Math.Sqrt(2) / 4;
        var points = new[] { (radius, 0.0), (0.0, 0.0), (2.0, 2.0), (-1.0, 3.0) };
        var logP = LogDensity(target, points);
        for (int i = 0; i < points.Length; i++)
        {
            double p = Enumerable.Range(0, 8).Sum(k => Math.Exp(LogNormal(points[i].Item1, radius * Math.Cos(k * Math.PI / 4), std)
                                                               + LogNormal(points[i].Item2, radius * Math.Sin(k * Math.PI / 4), std))) / 8;
            Close(Math.Log(p), logP[i], $"eight-gaussians at {points[i]}");
        }
    }

    [Fact]
    public void Should_Place_First_Mode_At_Top_With_NormFlows_Scale_For_Circle_Mixture()
    {
        var target = new CircleMixture();
        double std = 2.0 / 3 * Math.Sin(Math.PI / 8);
        Assert.Equal(std, target.Std, 12);
        var points = new[] { (0.0, 2.0), (2.0, 0.0), (1.0, 1.0), (0.0, 0.0) };
        var logP = LogDensity(target, points);
        for (int i = 0; i < points.Length; i++)
        {
            double p = Enumerable.Range(0, 8).Sum(k => Math.Exp(LogNormal(points[i].Item1, 2 * Math.Sin(2 * Math.PI * k / 8), std)
                                                               + LogNormal(points[i].Item2, 2 * Math.Cos(2 * Math.PI * k / 8), std))) / 8;
            Close(Math.Log(p), logP[i], $"circle-mixture at {points[i]}");
        }
        Assert.Equal("modes", Assert.Throws<ArgumentOutOfRangeException>(() => new CircleMixture(modes: 1)).ParamName);
    }

    [Fact]
    public void Should_Be_Uniform_On_Black_Squares_Of_Checkerboard()
    {
        var board = new Checkerboard();
        Assert.Equal(8, board.BlackSquares);
        Assert.Equal(-Math.Log(32), board.LogDensityInside, 12);
        // Black: lower-left square and those of even column + row; white otherwise; nothing off the board.
        var black = new[] { (-3.0, -3.0), (-1.0, -1.0), (1.0, 1.0), (3.0, -1.0), (3.9, 3.9), (-4.0, -4.0) };
        var white = new[] { (-1.0, -3.0), (-3.0, -1.0), (1.0, 3.0), (3.0, 1.5) };
        var outside = new[] { (5.0, 0.0), (0.0, -4.5), (4.0, 0.5), (-4.01, -3.0) };
        Assert.All(LogDensity(board, black), v => Assert.Equal(-Math.Log(32), v, 12));
        Assert.All(LogDensity(board, white), v => Assert.True(double.IsNegativeInfinity(v)));
        Assert.All(LogDensity(board, outside), v => Assert.True(double.IsNegativeInfinity(v)));
        Assert.True(double.IsNaN(LogDensity(board, (double.NaN, 0.0))[0]));
        Assert.Equal("squaresPerSide", Assert.Throws<ArgumentOutOfRangeException>(() => new Checkerboard(0)).ParamName);
        Assert.Equal(5, new Checkerboard(3).BlackSquares);
    }

    [Fact]
    public void Should_Be_Rotated_Anisotropic_Mixture_Twisted_By_Volume_Preserving_Rotation_For_Pinwheel()
    {
        // Without twist: 1/4 * 1/K sum_k N(Rot(-theta_k) x / 2; (1, 0), diag(0.3^2, 0.1^2)).
        static double Untwisted(double x, double y)
        {
            double u = x / 2, v = y / 2, sum = 0;
            for (int k = 0; k < 5; k++)
            {
                double theta = 2 * Math.PI * k / 5;
                double g0 = Math.Cos(theta) * u + Math.Sin(theta) * v, g1 = -Math.Sin(theta) * u + Math.Cos(theta) * v;
                sum += Math.Exp(LogNormal(g0, 1, 0.3) + LogNormal(g1, 0, 0.1));
            }
            return Math.Log(sum / 5 / 4);
        }
        var points = new[] { (2.0, 0.0), (0.5, 1.5), (-1.0, -2.5), (3.0, 3.0), (0.1, -0.1) };
        var flat = LogDensity(new Pinwheel(rate: 0), points);
        var twisted = LogDensity(new Pinwheel(), points);
        for (int i = 0; i < points.Length; i++)
        {
            var (x, y) = points[i];
            Close(Untwisted(x, y), flat[i], $"untwisted pinwheel at {points[i]}");
            // With the twist: p(x) = p_untwisted(Rot(-a(|x| / 2)) x), a(rho) = 0.25 exp(rho): Jacobian 1.
            double a = 0.25 * Math.Exp(Math.Sqrt(x * x + y * y) / 2);
            Close(Untwisted(Math.Cos(a) * x + Math.Sin(a) * y, -Math.Sin(a) * x + Math.Cos(a) * y), twisted[i], $"pinwheel at {points[i]}");
        }
    }

    [Fact]
    public void Should_Be_Rezende_Mohamed_U1_Energy_For_Two_Modes()
    {
        var target = new TwoModes();
        Assert.False(target.IsNormalized);
        var points = new[] { (2.0, 0.0), (-2.0, 0.0), (0.0, 2.0), (1.0, 1.0), (3.5, -1.0), (0.0, 0.0) };
        var logP = LogDensity(target, points);
        for (int i = 0; i < points.Length; i++)
        {
            var (z1, z2) = points[i];
            double u = 0.5 * Math.Pow((Math.Sqrt(z1 * z1 + z2 * z2) - 2) / 0.4, 2)
                       - Math.Log(Math.Exp(-0.5 * Math.Pow((z1 - 2) / 0.6, 2)) + Math.Exp(-0.5 * Math.Pow((z1 + 2) / 0.6, 2)));
            Close(-u, logP[i], $"two-modes at {points[i]}");
        }
    }

    [Fact]
    public void Should_Refuse_KL_For_Unnormalised_Two_Modes()
    {
        using var model = new StandardNormal(2);
        var error = Assert.Throws<ArgumentException>(() => Metrics.KlDivergence(new TwoModes(), model, samples: 100));
        Assert.Contains("two-modes", error.Message);
    }

    [Fact]
    public void Should_Have_Normalising_Constant_Stated_In_Docs_For_Two_Modes()
    {
        using var scope = torch.NewDisposeScope();
        var target = new TwoModes();
        var (xMin, xMax, yMin, yMax) = target.Bounds;
        const int Steps = 600;
        var grid = Metrics.Grid(xMin, xMax, yMin, yMax, Steps, ScalarType.Float64);
        double z = target.LogDensity(grid).exp().sum().ToDouble() * target.Bounds.Area / (Steps * Steps);
        Assert.InRange(z, 6.5371, 6.5373);
    }

    [Fact]
    public void Should_Use_Boxes_Holding_Almost_All_Mass_For_Tutorial_Targets()
    {
        Assert.Equal(new Box(-5, 50, -15, 15), new Banana().Bounds);
        Assert.Equal(new Box(0.5, 2.5, -6, 10), new UniformNormal().Bounds);
    }
}
