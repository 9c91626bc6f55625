using System;
using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// An unnormalised two-mode density for variational inference: the energy <c>U_1</c> of Rezende and Mohamed (2015),
/// "Variational Inference with Normalizing Flows", <c>log p~(z) = -U(z)</c> with
/// <c>U(z) = 1/2 ((|z| - R) / sr)^2 - log(exp(-1/2 ((z_1 - R) / sm)^2) + exp(-1/2 ((z_1 + R) / sm)^2))</c>:
/// a ring of radius <c>R</c> cut into two arcs by bumps at <c>z_1 = +-R</c>. Defaults as the paper's: <c>R = 2</c>,
/// <c>sr = 0.4</c>, <c>sm = 0.6</c>. <see cref="IsNormalized"/> is false: the normalising constant has no closed form (numerically
/// <c>Z = 6.5372</c> for the defaults), so KL(p||q) cannot be computed exactly, but reverse-KL (variational) fits
/// only need <c>log p~</c>.
/// <see cref="Sample"/> is exact, by rejection: <c>z_1</c> from the two-bump mixture <c>1/2 N(+-R, sm^2)</c>, <c>z_2</c> from
/// the envelope <c>h(z_2) = 1</c> for <c>|z_2| &lt;= R</c> and <c>exp(-1/2 ((|z_2| - R) / sr)^2)</c> beyond (the ring factor
/// never exceeds it), accepted with probability ring factor / <c>h(z_2)</c>; about 43 % of proposals are accepted for the defaults.
/// </summary>
public sealed class TwoModes : ITarget
{
    /// <summary>Creates the energy.</summary>
    /// <param name="radius">Ring radius <c>R</c>, also where the modes sit on the first axis; positive.</param>
    /// <param name="ringStd">Width <c>sr</c> of the ring; positive.</param>
    /// <param name="modeStd">Width <c>sm</c> of the bumps along the first axis; positive.</param>
    public TwoModes(double radius = 2.0, double ringStd = 0.4, double modeStd = 0.6)
    {
        Guard.Positive(radius, nameof(radius));
        Guard.Positive(ringStd, nameof(ringStd));
        Guard.Positive(modeStd, nameof(modeStd));
        Radius = radius;
        RingStd = ringStd;
        ModeStd = modeStd;
        double half = radius + 5 * ringStd;
        Bounds = new Box(-half, half, -half, half);
    }

    /// <summary>Ring radius <c>R</c>; the modes sit near <c>(+-R, 0)</c>.</summary>
    public double Radius { get; }

    /// <summary>Width <c>sr</c> of the ring.</summary>
    public double RingStd { get; }

    /// <summary>Width <c>sm</c> of the bumps along the first axis.</summary>
    public double ModeStd { get; }

    /// <inheritdoc />
    public string Name => "two-modes";

    /// <inheritdoc />
    public int Features => 2;

    /// <summary>False: <see cref="LogDensity"/> is <c>-U(z)</c>, not normalised.</summary>
    public bool IsNormalized => false;

    /// <summary>The square <c>[-h, h]^2</c> with <c>h = R + 5 sr</c> (4 by default): the ring factor is below
    /// <c>exp(-12.5)</c> outside the disc of radius <c>h</c>.</summary>
    public Box Bounds { get; }

    /// <summary>The unnormalised log-density <c>-U(z)</c> of each row of <paramref name="x"/> (<c>[batch, 2]</c>).</summary>
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        using var radius = Radius.ToScalar();
        using var ringStd = RingStd.ToScalar();
        using var modeStd = ModeStd.ToScalar();
        var ring = x.pow(Scalars.Two).sum(1).sqrt().sub(radius).div(ringStd).pow(Scalars.Two).mul(Scalars.Of(-0.5));
        var z1 = x.select(1, 0);
        var right = z1.sub(radius).div(modeStd).pow(Scalars.Two).mul(Scalars.Of(-0.5));
        var left = z1.add(radius, Scalars.One).div(modeStd).pow(Scalars.Two).mul(Scalars.Of(-0.5));
        return scope.MoveToOuter(ring.add(torch.logaddexp(right, left), Scalars.One));
    }

    /// <summary>Draws <paramref name="count"/> exact samples of <c>p~ / Z</c> by rejection (see the class remarks).</summary>
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? Sampling.DefaultType;
        // Proposals and acceptance in float64, so that the acceptance test is exact to double precision.
        const ScalarType Work = ScalarType.Float64;
        double middleMass = 2 * Radius, tailMass = RingStd * Math.Sqrt(2 * Math.PI);
        double middleProbability = middleMass / (middleMass + tailMass);
        using var radius = Radius.ToScalar();
        using var diameter = (2 * Radius).ToScalar();
        using var ringStd = RingStd.ToScalar();
        using var modeStd = ModeStd.ToScalar();
        using var middleProbabilityScalar = middleProbability.ToScalar();
        var accepted = new List<Tensor>();
        long have = 0;
        while (have < count)
        {
            long proposals = Math.Max(1024, 3 * (count - have));
            var u = Draw.Uniform(new[] { proposals, 4L }, Work, device, generator);
            var e = Draw.Normal(new[] { proposals, 2L }, Work, device, generator);
            var side = u.select(1, 0).lt(Scalars.Of(0.5)).to(Work).mul(Scalars.Two).sub(Scalars.One);
            var z1 = side.mul(radius).add(e.select(1, 0).mul(modeStd), Scalars.One);
            var middle = u.select(1, 1).lt(middleProbabilityScalar);
            var tailSign = u.select(1, 2).lt(Scalars.Of(0.5)).to(Work).mul(Scalars.Two).sub(Scalars.One);
            // In the middle, u_1 / middleProbability is uniform on [0, 1); beyond it, |z_2| = R + sr |e|.
            var z2 = torch.where(middle,
                u.select(1, 1).div(middleProbabilityScalar).mul(diameter).sub(radius),
                tailSign.mul(e.select(1, 1).abs().mul(ringStd).add(radius, Scalars.One)));
            var logRing = z1.pow(Scalars.Two).add(z2.pow(Scalars.Two), Scalars.One).sqrt().sub(radius).div(ringStd).pow(Scalars.Two).mul(Scalars.Of(-0.5));
            var logEnvelope = z2.abs().sub(radius).clamp_min(Scalars.Zero).div(ringStd).pow(Scalars.Two).mul(Scalars.Of(-0.5));
            var accept = u.select(1, 3).log().lt(logRing.sub(logEnvelope));
            var rows = Sampling.Rows(z1, z2).index_select(0, accept.nonzero().squeeze(1));
            accepted.Add(rows);
            have += rows.size(0);
        }
        var all = torch.cat(accepted, 0).narrow(0, 0, count);
        return scope.MoveToOuter(all.to(type));
    }
}
