using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// Concentric rings. A sample picks a ring <c>k</c> uniformly among <c>K</c>, an angle <c>theta ~ U[0, 2 pi)</c> and a
/// signed radius <c>rho = r_k + s e</c>, <c>e ~ N(0, 1)</c>, and returns <c>x = rho (cos theta, sin theta)</c> (a negative
/// <c>rho</c> lands on the opposite side, which the uniform angle makes the same as radius <c>|rho|</c>). Defaults: radii
/// 0.75, 1.5, 2.25 and 3 (those of FFJORD's "rings", which adds isotropic rather than radial noise) and <c>s = 0.1</c>.
/// Exact density, with the polar Jacobian <c>1 / (2 pi |x|)</c> and the folded radial normal:
/// <c>p(x) = 1/K sum_k [N(|x|; r_k, s^2) + N(|x|; -r_k, s^2)] / (2 pi |x|)</c>.
/// At <c>x = 0</c> the radial density is positive (about <c>1e-12</c> for the defaults) while the Jacobian diverges, so
/// the density is infinite there (an integrable <c>1 / |x|</c> spike carrying almost no mass): <see cref="LogDensity"/>
/// returns <c>+inf</c> at the origin, never NaN (its gradient there is undefined).
/// </summary>
public sealed class Rings : ITarget
{
    private static readonly double[] DefaultRadii = { 0.75, 1.5, 2.25, 3.0 };
    private readonly double[] radii;

    /// <summary>Creates FFJORD's four rings (radii 0.75, 1.5, 2.25, 3) with radial noise 0.1.</summary>
    public Rings() : this(DefaultRadii, 0.1)
    {
    }

    /// <summary>Creates rings with the given radii and radial noise.</summary>
    /// <param name="radii">Ring radii; at least one, each positive and finite.</param>
    /// <param name="noise">Standard deviation <c>s</c> of the radial noise; positive.</param>
    public Rings(IReadOnlyList<double> radii, double noise)
    {
        ArgumentNullException.ThrowIfNull(radii);
        if (radii.Count == 0) throw new ArgumentException("radii must hold at least one radius; got none.", nameof(radii));
        foreach (var r in radii)
            if (!(r > 0) || double.IsInfinity(r))
                throw new ArgumentOutOfRangeException(nameof(radii), r, $"Every radius must be a positive finite number; got {r}.");
        Guard.Positive(noise, nameof(noise));
        this.radii = radii.ToArray();
        Noise = noise;
        double half = this.radii.Max() + 5 * noise;
        Bounds = new Box(-half, half, -half, half);
    }

    /// <summary>The ring radii <c>r_k</c>.</summary>
    public IReadOnlyList<double> Radii => radii;

    /// <summary>Standard deviation <c>s</c> of the radial noise.</summary>
    public double Noise { get; }

    /// <inheritdoc />
    public string Name => "rings";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>The square <c>[-R, R]^2</c> with <c>R</c> the largest radius plus five noise deviations (<c>R = 3.5</c> by default).</summary>
    public Box Bounds { get; }

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        using var scale = (-0.5 / (Noise * Noise)).ToScalar();
        using var logNormalizer = (Math.Log(radii.Length) + Math.Log(Noise) + 0.5 * Sampling.Log2Pi).ToScalar();
        var r = x.pow(Scalars.Two).sum(1).sqrt().unsqueeze(1);
        var ringRadii = torch.tensor(radii, dtype: x.dtype, device: x.device);
        // Both branches of the folded normal for every ring: [batch, 2K].
        var distances = torch.cat(new[] { r.sub(ringRadii), r.add(ringRadii, Scalars.One) }, 1);
        var logRadial = torch.logsumexp(distances.pow(Scalars.Two).mul(scale), 1)
            .sub(logNormalizer);
        // log of the Jacobian 1 / (2 pi |x|): +inf at the origin, where the density is infinite.
        return scope.MoveToOuter(logRadial.sub(r.squeeze(1).log()).sub(Scalars.Of(Sampling.Log2Pi)));
    }

    /// <inheritdoc />
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? Sampling.DefaultType;
        var k = Sampling.UniformIndex(count, radii.Length, generator, device);
        using var noiseScale = Noise.ToScalar();
        var theta = Draw.Uniform(new[] { count }, type, device, generator).mul(Scalars.Of(2 * Math.PI));
        var rho = Draw.Normal(new[] { count }, type, device, generator).mul(noiseScale)
            .add(torch.tensor(radii, dtype: type, device: device).index_select(0, k), Scalars.One);
        return scope.MoveToOuter(Sampling.Rows(rho.mul(theta.cos()), rho.mul(theta.sin())));
    }
}
