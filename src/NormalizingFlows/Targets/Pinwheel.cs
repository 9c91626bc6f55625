using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// A pinwheel: Gaussian blobs twisted by a rotation that grows with the radius (after FFJORD's "pinwheel", with the
/// twist made a function of the radius so that the density is exact). Construction of a sample:
/// <c>g ~ N((1, 0), diag(sr^2, st^2))</c>; <c>f = Rot(2 pi k / K) g</c> with the arm <c>k</c> uniform among <c>K</c>;
/// <c>x = 2 Rot(a(|f|)) f</c> with the twist <c>a(rho) = c exp(rho)</c>. Defaults: <c>K = 5</c>, <c>sr = 0.3</c>,
/// <c>st = 0.1</c>, <c>c = 0.25</c>.
/// The twist <c>W(f) = Rot(a(|f|)) f</c> keeps the radius and in polar coordinates maps <c>(rho, phi)</c> to
/// <c>(rho, phi + a(rho))</c>, so its Jacobian determinant is 1. By change of variables the density is exact:
/// <c>p(x) = 1/4 q(Rot(-a(|x| / 2)) x / 2)</c> with <c>q(f) = 1/K sum_k N(Rot(-2 pi k / K) f; (1, 0), diag(sr^2, st^2))</c>.
/// </summary>
public sealed class Pinwheel : ITarget
{
    private const double Scale = 2.0;

    /// <summary>Creates the pinwheel.</summary>
    /// <param name="arms">Number of arms <c>K</c>; at least 1.</param>
    /// <param name="radialStd">Standard deviation <c>sr</c> of each blob along its arm (before the twist); positive.</param>
    /// <param name="tangentialStd">Standard deviation <c>st</c> of each blob across its arm; positive.</param>
    /// <param name="rate">Twist rate <c>c</c> in <c>a(rho) = c exp(rho)</c>; finite (0 for no twist).</param>
    public Pinwheel(int arms = 5, double radialStd = 0.3, double tangentialStd = 0.1, double rate = 0.25)
    {
        if (arms < 1) throw new ArgumentOutOfRangeException(nameof(arms), arms, $"arms must be at least 1; got {arms}.");
        Guard.Positive(radialStd, nameof(radialStd));
        Guard.Positive(tangentialStd, nameof(tangentialStd));
        if (!double.IsFinite(rate)) throw new ArgumentOutOfRangeException(nameof(rate), rate, $"rate must be a finite number; got {rate}.");
        Arms = arms;
        RadialStd = radialStd;
        TangentialStd = tangentialStd;
        Rate = rate;
        double half = Scale * (1 + 5 * Math.Max(radialStd, tangentialStd));
        Bounds = new Box(-half, half, -half, half);
    }

    /// <summary>Number of arms <c>K</c>.</summary>
    public int Arms { get; }

    /// <summary>Standard deviation <c>sr</c> of each blob along its arm, before the twist and the scaling by 2.</summary>
    public double RadialStd { get; }

    /// <summary>Standard deviation <c>st</c> of each blob across its arm, before the twist and the scaling by 2.</summary>
    public double TangentialStd { get; }

    /// <summary>Twist rate <c>c</c>: a point at radius <c>rho</c> (before scaling) turns by <c>c exp(rho)</c> radians.</summary>
    public double Rate { get; }

    /// <inheritdoc />
    public string Name => "pinwheel";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>The square <c>[-h, h]^2</c> with <c>h = 2 (1 + 5 max(sr, st))</c> (5 by default): the radius keeps
    /// within five deviations of the blobs' centre radius.</summary>
    public Box Bounds { get; }

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        using var rate = Rate.ToScalar();
        using var arms = Arms.ToScalar();
        using var armAngle = (2 * Math.PI / Arms).ToScalar();
        using var radialStd = RadialStd.ToScalar();
        using var tangentialStd = TangentialStd.ToScalar();
        using var logNormalizer = (Math.Log(Arms) + Sampling.Log2Pi + Math.Log(RadialStd * TangentialStd)).ToScalar();
        var y = x.div(Scalars.Of(Scale));
        var y0 = y.select(1, 0);
        var y1 = y.select(1, 1);
        // Undo the twist: f = Rot(-a(|y|)) y (the twist keeps the radius).
        var angle = y.pow(Scalars.Two).sum(1).sqrt().exp().mul(rate);
        var cos = angle.cos();
        var sin = angle.sin();
        var f0 = cos.mul(y0).add(sin.mul(y1), Scalars.One).unsqueeze(1);
        var f1 = cos.mul(y1).sub(sin.mul(y0)).unsqueeze(1);
        // Into every arm's frame: g = Rot(-theta_k) f, shape [batch, K].
        var thetas = torch.arange(Scalars.Zero, arms, Scalars.One, dtype: x.dtype, device: x.device).mul(armAngle);
        var armCos = thetas.cos();
        var armSin = thetas.sin();
        var g0 = f0.mul(armCos).add(f1.mul(armSin), Scalars.One);
        var g1 = f1.mul(armCos).sub(f0.mul(armSin));
        var exponent = g0.sub(Scalars.One).div(radialStd).pow(Scalars.Two).add(g1.div(tangentialStd).pow(Scalars.Two), Scalars.One).mul(Scalars.Of(-0.5));
        var logQ = torch.logsumexp(exponent, 1).sub(logNormalizer);
        return scope.MoveToOuter(logQ.sub(Scalars.Of(2 * Math.Log(Scale))));
    }

    /// <inheritdoc />
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? Sampling.DefaultType;
        var k = Sampling.UniformIndex(count, Arms, generator, device);
        var e = Draw.Normal(new[] { count, 2L }, type, device, generator);
        using var radialStd = RadialStd.ToScalar();
        using var tangentialStd = TangentialStd.ToScalar();
        using var armAngle = (2 * Math.PI / Arms).ToScalar();
        using var rate = Rate.ToScalar();
        var g0 = e.select(1, 0).mul(radialStd).add(Scalars.One, Scalars.One);
        var g1 = e.select(1, 1).mul(tangentialStd);
        var theta = k.to(type).mul(armAngle);
        var f0 = theta.cos().mul(g0).sub(theta.sin().mul(g1));
        var f1 = theta.sin().mul(g0).add(theta.cos().mul(g1), Scalars.One);
        var angle = f0.pow(Scalars.Two).add(f1.pow(Scalars.Two), Scalars.One).sqrt().exp().mul(rate);
        var x0 = angle.cos().mul(f0).sub(angle.sin().mul(f1));
        var x1 = angle.sin().mul(f0).add(angle.cos().mul(f1), Scalars.One);
        return scope.MoveToOuter(Sampling.Rows(x0, x1).mul(Scalars.Of(Scale)));
    }
}
