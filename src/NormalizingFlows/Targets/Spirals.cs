using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// Two interleaved Archimedean spirals with Gaussian noise. A sample picks one of the spirals
/// <c>c_+(t) = (t / pi) (cos t, sin t)</c> and <c>c_-(t) = -c_+(t)</c> with probability 1/2 each, the parameter
/// <c>t</c> in <c>[0, 3 pi]</c> (one and a half turns, out to radius 3) with density <c>w(t) = 2 t / (3 pi)^2</c>
/// (drawn as <c>t = 3 pi sqrt(u)</c>, close to uniform in arc length, as FFJORD's "2spirals"), and adds isotropic
/// noise: <c>x = c_k(t) + sigma e</c>, <c>e ~ N(0, I)</c>, <c>sigma = 0.1</c> by default. Neighbouring arms lie 1 apart.
/// The density is the spiral-convolved Gaussian <c>p(x) = 1/2 sum_k int_0^{3 pi} w(t) N(x; c_k(t), sigma^2 I) dt</c>,
/// evaluated by composite Gauss-Legendre quadrature over <c>t</c> (16 nodes per panel, panels of arc length at most
/// <c>7 sigma</c>, refined geometrically towards the ends; 928 nodes): relative error below <c>1e-6</c> everywhere in
/// <see cref="Bounds"/> (a test checks it against a finer quadrature).
/// </summary>
public sealed class Spirals : ITarget
{
    private const double Turns = 3 * Math.PI;
    private readonly CurveQuadrature quadrature;

    /// <summary>Creates the two spirals with noise standard deviation <paramref name="noise"/>.</summary>
    /// <param name="noise">Standard deviation of the isotropic Gaussian noise around the spirals; positive. 0.1 by default.</param>
    public Spirals(double noise = 0.1) : this(noise, TwoMoons.DefaultPanelLength, TwoMoons.DefaultGradingLevels, TwoMoons.DefaultOrder)
    {
    }

    /// <summary>Creates the spirals with explicit quadrature settings (tests compare against a finer rule).</summary>
    internal Spirals(double noise, double panelLength, int gradingLevels, int order)
    {
        Guard.Positive(noise, nameof(noise));
        Noise = noise;
        static double Density(double t) => 2 * t / (Turns * Turns);
        var curves = new[]
        {
            new CurveQuadrature.Curve(t => (t / Math.PI * Math.Cos(t), t / Math.PI * Math.Sin(t)), Density, 0, Turns, 0.5),
            new CurveQuadrature.Curve(t => (-t / Math.PI * Math.Cos(t), -t / Math.PI * Math.Sin(t)), Density, 0, Turns, 0.5),
        };
        quadrature = new CurveQuadrature(curves, noise, panelLength * noise, gradingLevels, order);
        // Both spirals lie within |x| <= 3 and |y| <= 2.6 (the outer turn reaches radius 3 on the x axis).
        double x = 3 + 5 * noise, y = 2.6 + 5 * noise;
        Bounds = new Box(-x, x, -y, y);
    }

    /// <summary>Standard deviation of the noise around the spirals.</summary>
    public double Noise { get; }

    /// <summary>Number of quadrature nodes behind <see cref="LogDensity"/>.</summary>
    public int QuadratureNodes => quadrature.NodeCount;

    /// <inheritdoc />
    public string Name => "spirals";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>The spirals' extent widened by five noise deviations: <c>[-3.5, 3.5] x [-3.1, 3.1]</c> for the default noise.</summary>
    public Box Bounds { get; }

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(quadrature.LogDensity(x));
    }

    /// <inheritdoc />
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? Sampling.DefaultType;
        using var noiseScale = Noise.ToScalar();
        var sign = Draw.Uniform(new[] { count }, type, device, generator).lt(Scalars.Of(0.5)).to(type).mul(Scalars.Two).sub(Scalars.One);
        var t = Draw.Uniform(new[] { count }, type, device, generator).sqrt().mul(Scalars.Of(Turns));
        var noise = Draw.Normal(new[] { count, 2L }, type, device, generator).mul(noiseScale);
        var radius = t.div(Scalars.Of(Math.PI)).mul(sign);
        return scope.MoveToOuter(Sampling.Rows(radius.mul(t.cos()), radius.mul(t.sin())).add(noise, Scalars.One));
    }
}
