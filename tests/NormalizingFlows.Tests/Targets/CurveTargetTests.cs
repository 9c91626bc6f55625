using System;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Targets;

/// <summary>
/// The quadrature behind the two moons and the spirals: below 1e-6 relative error everywhere in (and around) the
/// bounds, against a four times finer rule and against an independent Simpson rule written from the definitions.
/// </summary>
public sealed class CurveTargetTests(ITestOutputHelper output)
{
    private static ITarget Moons(double noise, bool fine) => fine ? new TwoMoons(noise, TwoMoons.DefaultPanelLength / 4, 8, TwoMoons.DefaultOrder) : new TwoMoons(noise);

    private static ITarget Spiral(double noise, bool fine) => fine ? new Spirals(noise, TwoMoons.DefaultPanelLength / 4, 8, TwoMoons.DefaultOrder) : new Spirals(noise);

    [Theory]
    [InlineData("two-moons", 0.2)]
    [InlineData("two-moons", 0.1)]
    [InlineData("spirals", 0.1)]
    [InlineData("spirals", 0.05)]
    public void Should_Match_A_Finer_Quadrature_To_1e6_Relative_Over_And_Around_Its_Bounds(string name, double noise)
    {
        using var scope = torch.NewDisposeScope();
        var target = name == "two-moons" ? Moons(noise, false) : Spiral(noise, false);
        var reference = name == "two-moons" ? Moons(noise, true) : Spiral(noise, true);
        var b = target.Bounds;
        var grid = Metrics.Grid(b.XMin - 0.5, b.XMax + 0.5, b.YMin - 0.5, b.YMax + 0.5, 70, ScalarType.Float64);
        double gap = target.LogDensity(grid).sub(reference.LogDensity(grid)).abs().max().ToDouble();
        output.WriteLine($"{name} (noise {noise}): max |log p - log p_fine| = {gap:E2} on a 70 x 70 grid over {b} widened by 0.5");
        Assert.True(gap < 1e-6, $"{name}: quadrature error {gap:E2} in log p, expected below 1e-6.");
    }

    [Fact]
    public void Should_Match_Independent_Simpson_Rule_For_Two_Moons()
    {
        const double Sigma = 0.2;
        var points = new[] { (0.0, 0.3), (-3.0, -0.2), (1.0, 1.73), (3.9, -2.1), (-3.9, 2.7), (0.0, -2.2), (4.0, 2.8), (1.2, -0.6) };
        double Log(double x, double y) => LogAdd(
            LogSimpson(t => (-1 + 2 * Math.Cos(t), -0.2 + 2 * Math.Sin(t)), _ => 1 / Math.PI, 0, Math.PI, x, y, Sigma, 0.5),
            LogSimpson(t => (1 - 2 * Math.Cos(t), 0.8 - 2 * Math.Sin(t)), _ => 1 / Math.PI, 0, Math.PI, x, y, Sigma, 0.5));
        CompareWithIndependentRule(new TwoMoons(), points, Log);
    }

    [Fact]
    public void Should_Match_Independent_Simpson_Rule_For_Spirals()
    {
        const double Sigma = 0.1, T = 3 * Math.PI;
        var points = new[] { (0.0, 0.0), (3.0, 0.0), (3.5, 0.5), (-3.4, 3.0), (1.0, 0.5), (0.5, -1.9), (3.5, -3.1), (-0.2, 0.1) };
        double Log(double x, double y) => LogAdd(
            LogSimpson(t => (t / Math.PI * Math.Cos(t), t / Math.PI * Math.Sin(t)), t => 2 * t / (T * T), 0, T, x, y, Sigma, 0.5),
            LogSimpson(t => (-t / Math.PI * Math.Cos(t), -t / Math.PI * Math.Sin(t)), t => 2 * t / (T * T), 0, T, x, y, Sigma, 0.5));
        CompareWithIndependentRule(new Spirals(), points, Log);
    }

    [Fact]
    public void Should_Use_A_Few_Hundred_Nodes()
    {
        var moons = new TwoMoons();
        var spirals = new Spirals();
        output.WriteLine($"two-moons: {moons.QuadratureNodes} nodes; spirals: {spirals.QuadratureNodes} nodes");
        Assert.InRange(moons.QuadratureNodes, 100, 1000);
        Assert.InRange(spirals.QuadratureNodes, 100, 2000);
    }

    [Fact]
    public void Should_Reject_Non_Positive_Noise()
    {
        Assert.Equal("noise", Assert.Throws<ArgumentOutOfRangeException>(() => new TwoMoons(0)).ParamName);
        Assert.Equal("noise", Assert.Throws<ArgumentOutOfRangeException>(() => new Spirals(-0.1)).ParamName);
        Assert.Equal("noise", Assert.Throws<ArgumentOutOfRangeException>(() => new Spirals(double.NaN)).ParamName);
    }

    private void CompareWithIndependentRule(ITarget target, (double X, double Y)[] points, Func<double, double, double> log)
    {
        using var scope = torch.NewDisposeScope();
        var flat = new double[points.Length * 2];
        for (int i = 0; i < points.Length; i++) (flat[2 * i], flat[2 * i + 1]) = points[i];
        var logP = target.LogDensity(torch.tensor(flat, new long[] { points.Length, 2 }, ScalarType.Float64)).data<double>().ToArray();
        for (int i = 0; i < points.Length; i++)
        {
            double expected = log(points[i].X, points[i].Y);
            output.WriteLine($"{target.Name} at ({points[i].X}, {points[i].Y}): log p = {logP[i]:F10}, Simpson {expected:F10}");
            Assert.True(Math.Abs(logP[i] - expected) < 1e-6, $"{target.Name} at {points[i]}: log p = {logP[i]}, independent rule {expected}.");
        }
    }

    /// <summary><c>log(weight int w(t) N(x; c(t), sigma^2 I) dt)</c> by composite Simpson with 200 000 intervals, in log space.</summary>
    private static double LogSimpson(Func<double, (double X, double Y)> curve, Func<double, double> w, double a, double b,
        double x, double y, double sigma, double weight)
    {
        const int N = 200_000;
        double h = (b - a) / N;
        var exponents = new double[N + 1];
        double max = double.NegativeInfinity;
        for (int i = 0; i <= N; i++)
        {
            var (cx, cy) = curve(a + i * h);
            exponents[i] = -((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * sigma * sigma);
            max = Math.Max(max, exponents[i]);
        }
        double sum = 0;
        for (int i = 0; i <= N; i++)
        {
            double coefficient = i == 0 || i == N ? 1 : i % 2 == 1 ? 4 : 2;
            sum += coefficient * w(a + i * h) * Math.Exp(exponents[i] - max);
        }
        return Math.Log(weight * sum * h / 3 / (2 * Math.PI * sigma * sigma)) + max;
    }

    private static double LogAdd(double a, double b) => Math.Max(a, b) + Math.Log(1 + Math.Exp(-Math.Abs(a - b)));
}
