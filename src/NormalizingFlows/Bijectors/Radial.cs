using System;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// A radial flow layer: a contraction or expansion around a reference point <c>z0</c>.
/// Forward: <c>y = x + beta h(r) (x - z0)</c> with <c>r = |x - z0|</c>, <c>h(r) = 1 / (alpha + r)</c>,
/// <c>alpha = softplus(a) &gt; 0</c> and <c>beta = -alpha + softplus(b) &gt; -alpha</c> (the condition for invertibility);
/// log-det: <c>(D - 1) log(1 + beta h) + log(1 + beta alpha h^2)</c>.
/// Inverse: no closed form; <see cref="Bijector.Inverse"/> throws <see cref="NotSupportedException"/>.
/// Inverse log-det: not available (it would be minus the forward one at the preimage).
/// Rezende and Mohamed, "Variational inference with normalizing flows" (2015), section 4.1 and appendix A.2.
/// </summary>
/// <remarks>Radial layers are meant for the sampling direction: <see cref="Distribution.SampleWithLogProb"/> of a
/// flow made of them gives samples with exact log-densities in one pass (variational inference), but
/// <see cref="Distribution.LogProb"/> of arbitrary points needs the inverse and throws.</remarks>
public sealed partial class Radial : Bijector
{
    private readonly Parameter center;
    private readonly Parameter alphaRaw;
    private readonly Parameter betaRaw;

    /// <summary>Creates a radial layer with <c>z0</c>, <c>a</c> and <c>b</c> drawn from <c>U(-1/sqrt(D), 1/sqrt(D))</c>.</summary>
    /// <param name="features">Number of features <c>D</c>.</param>
    /// <param name="generator">Generator for the initial values; null uses TorchSharp's default generator.</param>
    public Radial(int features, Generator? generator = null) : base(nameof(Radial), new[] { (long)CheckedFeatures(features) })
    {
        double bound = 1.0 / Math.Sqrt(features);
        using var twiceBound = (2 * bound).ToScalar();
        using var boundScalar = bound.ToScalar();
        center = new Parameter(Draw.Uniform(new long[] { features }, null, null, generator).mul(twiceBound).sub(boundScalar).DetachFromDisposeScope());
        alphaRaw = new Parameter(Draw.Uniform(new long[] { 1 }, null, null, generator).mul(twiceBound).sub(boundScalar).DetachFromDisposeScope());
        betaRaw = new Parameter(Draw.Uniform(new long[] { 1 }, null, null, generator).mul(twiceBound).sub(boundScalar).DetachFromDisposeScope());
        RegisterComponents();
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        using var otherDimensions = (EventShape[0] - 1).ToScalar();
        var alpha = StableMath.Softplus(alphaRaw);
        var beta = StableMath.Softplus(betaRaw).sub(alpha);
        var offset = x.sub(center);
        var r = offset.norm(1, keepdim: true);                        // [batch, 1]
        var h = r.add(alpha, Scalars.One).reciprocal();
        var betaH = h.mul(beta);
        var y = x.add(offset.mul(betaH), Scalars.One);
        var logAbsDet = betaH.log1p().mul(otherDimensions).add(h.pow(Scalars.Two).mul(beta.mul(alpha)).log1p(), Scalars.One).squeeze(1);
        return (y, logAbsDet);
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">Always: a radial layer has no closed-form inverse.</exception>
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) =>
        throw new NotSupportedException(
            "Radial has no closed-form inverse, so Inverse (and Flow.LogProb of arbitrary points) is not available for a flow that contains it. " +
            "Use the flow in the sampling direction: Flow.SampleWithLogProb returns samples with their exact log-densities (variational inference).");

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }
}
