using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// Two interleaved half circles with Gaussian noise (scikit-learn's <c>make_moons</c> as FFJORD scales it: radius 2,
/// noise 0.2). A sample picks one of two arcs with probability 1/2 each, a point of it uniformly in the angle
/// <c>t ~ U[0, pi]</c>, and adds isotropic noise:
/// <c>c_1(t) = (-1 + 2 cos t, -0.2 + 2 sin t)</c> (upper arc), <c>c_2(t) = (1 - 2 cos t, 0.8 - 2 sin t)</c> (lower arc),
/// <c>x = c_k(t) + sigma e</c>, <c>e ~ N(0, I)</c>.
/// The density is the arc-convolved Gaussian <c>p(x) = 1/2 sum_k 1/pi int_0^pi N(x; c_k(t), sigma^2 I) dt</c>,
/// evaluated by composite Gauss-Legendre quadrature over <c>t</c> (16 nodes per panel, panels of arc length at most
/// <c>7 sigma</c>, refined geometrically towards the arc ends; 416 nodes): relative error below <c>1e-6</c> everywhere in
/// <see cref="Bounds"/> (a test checks it against a finer quadrature).
/// </summary>
public sealed class TwoMoons : ITarget
{
    /// <summary>Panel arc length, in units of the noise, of the quadrature used by default.</summary>
    internal const double DefaultPanelLength = 7.0;

    /// <summary>Geometric refinements towards each arc end used by default.</summary>
    internal const int DefaultGradingLevels = 4;

    /// <summary>Gauss-Legendre nodes per panel used by default.</summary>
    internal const int DefaultOrder = 16;

    private const double Radius = 2.0;
    private readonly CurveQuadrature quadrature;

    /// <summary>Creates the two moons with noise standard deviation <paramref name="noise"/>.</summary>
    /// <param name="noise">Standard deviation of the isotropic Gaussian noise around the arcs; positive. 0.2 by default.</param>
    public TwoMoons(double noise = 0.2) : this(noise, DefaultPanelLength, DefaultGradingLevels, DefaultOrder)
    {
    }

    /// <summary>Creates the two moons with explicit quadrature settings (tests compare against a finer rule).</summary>
    internal TwoMoons(double noise, double panelLength, int gradingLevels, int order)
    {
        Guard.Positive(noise, nameof(noise));
        Noise = noise;
        var curves = new[]
        {
            new CurveQuadrature.Curve(t => (-1 + Radius * Math.Cos(t), -0.2 + Radius * Math.Sin(t)), _ => 1 / Math.PI, 0, Math.PI, 0.5),
            new CurveQuadrature.Curve(t => (1 - Radius * Math.Cos(t), 0.8 - Radius * Math.Sin(t)), _ => 1 / Math.PI, 0, Math.PI, 0.5),
        };
        quadrature = new CurveQuadrature(curves, noise, panelLength * noise, gradingLevels, order);
        // The arcs span x in [-3, 3] and y in [-1.2, 1.8]; five noise deviations beyond that.
        Bounds = new Box(-3 - 5 * noise, 3 + 5 * noise, -1.2 - 5 * noise, 1.8 + 5 * noise);
    }

    /// <summary>Standard deviation of the noise around the arcs.</summary>
    public double Noise { get; }

    /// <summary>Number of quadrature nodes behind <see cref="LogDensity"/>.</summary>
    public int QuadratureNodes => quadrature.NodeCount;

    /// <inheritdoc />
    public string Name => "two-moons";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>The arcs' extent widened by five noise deviations: <c>[-4, 4] x [-2.2, 2.8]</c> for the default noise.</summary>
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
        var upper = Draw.Uniform(new[] { count }, type, device, generator).lt(Scalars.Of(0.5));
        var t = Draw.Uniform(new[] { count }, type, device, generator).mul(Scalars.Of(Math.PI));
        var noise = Draw.Normal(new[] { count, 2L }, type, device, generator).mul(noiseScale);
        var cos = t.cos().mul(Scalars.Of(Radius));
        var sin = t.sin().mul(Scalars.Of(Radius));
        var x = torch.where(upper, cos.sub(Scalars.One), cos.neg().add(Scalars.One, Scalars.One));
        var y = torch.where(upper, sin.sub(Scalars.Of(0.2)), sin.neg().add(Scalars.Of(0.8), Scalars.One));
        return scope.MoveToOuter(Sampling.Rows(x, y).add(noise, Scalars.One));
    }
}
