using System;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Transforms;

/// <summary>
/// Elementwise affine map whose log-scale is bounded by a <em>learnable</em> bound per feature: parameters <c>(shift, u)</c>
/// per feature, log-scale <c>s = c * tanh(u / c)</c> with <c>c = exp(l)</c> and <c>l</c> trained.
/// Forward: <c>y = x * exp(s) + shift</c>; log-det: <c>s</c>.
/// Inverse: <c>x = (y - shift) * exp(-s)</c>; log-det: <c>-s</c>.
/// The coupling of the second source tutorial ("Normalizing flows, a simple example", 2023), adapted from the
/// University of Amsterdam deep-learning course; a learnable form of the soft clamp of <see cref="ScaleMap.SoftClamp"/>.
/// All-zero parameters give the identity whatever the bound.
/// </summary>
/// <remarks>
/// Design: <see cref="IElementwiseTransform"/> is stateless math, but the bound here is a trained parameter. Rather than widen
/// that interface for every transform, this one transform is also an <see cref="nn.Module"/> that owns the parameter
/// (<c>logBound</c>, shape <c>[features]</c>). A <see cref="Bijectors.Coupling"/> keeps its transform in a field, and
/// TorchSharp registers any field whose value is a module as a submodule, so the bound appears in the coupling's
/// <c>parameters()</c> (as <c>transform.logBound</c>), follows <c>.to(dtype)</c>, is saved with the weights and is disposed
/// with the layer. The alternatives were worse: a conditioner output would make the bound depend on the input (it is a
/// constant in the tutorial), and a second parameter list on the coupling would special-case one transform there.
/// Consequence: use one instance per layer; an instance shared between layers shares (and double-disposes) its bound.
/// </remarks>
public sealed partial class TanhBoundedAffineTransform : nn.Module, IElementwiseTransform, Kernels.IFusableTransform
{
    private readonly Parameter logBound;

    /// <summary>Creates the transform for <paramref name="features"/> transformed features.</summary>
    /// <param name="features">Number of features it transforms (the last dimension of its input): for a coupling, the number of
    /// features the mask marks.</param>
    /// <param name="initialBound">The starting bound <c>c</c> of every feature; positive. The tutorial starts at 1.</param>
    public TanhBoundedAffineTransform(int features, double initialBound = 1.0) : base(nameof(TanhBoundedAffineTransform))
    {
        Guard.Features(features, nameof(features));
        Guard.Positive(initialBound, nameof(initialBound));
        Features = features;
        using var initialLogBound = Math.Log(initialBound).ToScalar();
        logBound = new Parameter(torch.full(features, initialLogBound).DetachFromDisposeScope());
        RegisterComponents();
    }

    /// <summary>Number of features it transforms.</summary>
    public int Features { get; }

    /// <inheritdoc />
    public int ParametersPerFeature => 2;

    /// <inheritdoc />
    Kernels.TransformDescription? Kernels.IFusableTransform.DescribeForKernels() =>
        new(Kernels.LogScaleKind.LearnedBound, 0.0, () => new Tensor[] { logBound });

    /// <summary>The current bounds <c>c</c>, shape <c>[features]</c>, detached (the caller owns the tensor).</summary>
    public Tensor Bound() => logBound.detach().exp();

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor parameters)
    {
        CheckWidth(x, nameof(x));
        var shift = parameters.select(-1, 0);
        var logScale = LogScale(parameters.select(-1, 1));
        return (torch.addcmul(shift, x, logScale.exp(), Scalars.Of(1.0)), logScale);
    }

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor parameters)
    {
        CheckWidth(y, nameof(y));
        var shift = parameters.select(-1, 0);
        var logScale = LogScale(parameters.select(-1, 1));
        return (y.sub(shift).mul(logScale.neg().exp()), logScale.neg());
    }

    private Tensor LogScale(Tensor raw)
    {
        var bound = logBound.exp();
        return raw.div(bound).tanh().mul(bound);
    }

    private void CheckWidth(Tensor x, string paramName)
    {
        if (x.dim() == 0 || x.size(-1) != Features)
            throw new ArgumentException($"This transform was made for {Features} features; got an input of shape {Guard.Shape(x.shape)}.", paramName);
    }
}
