using System;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// A planar flow layer: a contraction or expansion perpendicular to the hyperplane <c>w . x + b = 0</c>.
/// Forward: <c>y = x + u_hat tanh(w . x + b)</c>, where <c>u_hat = u + (m(w . u) - w . u) w / |w|^2</c> and
/// <c>m(a) = -1 + softplus(a)</c> keep <c>w . u_hat &gt; -1</c>, which makes the map invertible;
/// log-det: <c>log|1 + (1 - tanh^2(w . x + b)) w . u_hat|</c>.
/// Inverse: no closed form; <see cref="Bijector.Inverse"/> throws <see cref="NotSupportedException"/>.
/// Inverse log-det: not available (it would be minus the forward one at the preimage).
/// Rezende and Mohamed, "Variational inference with normalizing flows" (2015), section 4.1 and appendix A.1.
/// </summary>
/// <remarks>Planar layers are meant for the sampling direction: <see cref="Distribution.SampleWithLogProb"/> of a
/// flow made of them gives samples with exact log-densities in one pass (variational inference), but
/// <see cref="Distribution.LogProb"/> of arbitrary points needs the inverse and throws.</remarks>
public sealed partial class Planar : Bijector
{
    private readonly Parameter u;
    private readonly Parameter w;
    private readonly Parameter bias;

    /// <summary>Creates a planar layer with <c>u</c> and <c>w</c> drawn from <c>U(-1/sqrt(D), 1/sqrt(D))</c> and <c>b = 0</c>.</summary>
    /// <param name="features">Number of features <c>D</c>.</param>
    /// <param name="generator">Generator for the initial values; null uses TorchSharp's default generator.</param>
    public Planar(int features, Generator? generator = null) : base(nameof(Planar), new[] { (long)CheckedFeatures(features) })
    {
        double bound = 1.0 / Math.Sqrt(features);
        using var twiceBound = (2 * bound).ToScalar();
        using var boundScalar = bound.ToScalar();
        u = new Parameter(Draw.Uniform(new long[] { features }, null, null, generator).mul(twiceBound).sub(boundScalar).DetachFromDisposeScope());
        w = new Parameter(Draw.Uniform(new long[] { features }, null, null, generator).mul(twiceBound).sub(boundScalar).DetachFromDisposeScope());
        bias = new Parameter(torch.zeros(1).DetachFromDisposeScope());
        RegisterComponents();
    }

    /// <summary>The constrained <c>u_hat</c> (with <c>w . u_hat &gt; -1</c>), detached (a tensor the caller owns).</summary>
    public Tensor ConstrainedU()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return scope.MoveToOuter(UHat());
    }

    private Tensor UHat()
    {
        var wu = w.dot(u);
        var m = StableMath.Softplus(wu).sub(Scalars.Of(1.0));
        return u.add(w.mul(m.sub(wu).div(w.dot(w).clamp_min(Scalars.Of(1e-30)))), Scalars.One);
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        var uHat = UHat();
        var h = x.matmul(w).add(bias, Scalars.One).tanh();            // [batch]
        var y = x.add(h.unsqueeze(1).mul(uHat), Scalars.One);
        var logAbsDet = h.pow(Scalars.Two).neg().add(Scalars.Of(1.0), Scalars.One).mul(w.dot(uHat)).add(Scalars.Of(1.0), Scalars.One).abs().log();
        return (y, logAbsDet);
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">Always: a planar layer has no closed-form inverse.</exception>
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) =>
        throw new NotSupportedException(
            "Planar has no closed-form inverse, so Inverse (and Flow.LogProb of arbitrary points) is not available for a flow that contains it. " +
            "Use the flow in the sampling direction: Flow.SampleWithLogProb returns samples with their exact log-densities (variational inference).");

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }
}
