using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise affine map with a learnable shift <c>b</c> and log-scale <c>s</c> per feature, starting as the identity.
/// Forward: <c>y = x * exp(s) + b</c>; log-det: <c>sum(s)</c>.
/// Inverse: <c>x = (y - b) * exp(-s)</c>; log-det: <c>-sum(s)</c>.
/// The learnable diagonal affine layer of Dinh et al., "NICE" (2015) and "Real NVP" (2017); <c>ActNorm</c> is the same
/// map with data-dependent initialisation (Kingma and Dhariwal, "Glow", 2018).
/// </summary>
public sealed partial class ElementwiseAffine : ElementwiseBijector
{
    private readonly Parameter shift;
    private readonly Parameter logScale;

    /// <summary>Creates the layer on <paramref name="features"/> features (shift 0, scale 1).</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public ElementwiseAffine(int features) : this(FeatureShape(features))
    {
    }

    /// <summary>Creates the layer on events of any shape, one shift and one log-scale per element (shift 0, scale 1).</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public ElementwiseAffine(IReadOnlyList<long> eventShape) : base(nameof(ElementwiseAffine), CopyShape(eventShape))
    {
        shift = new Parameter(torch.zeros(eventShape.ToArray()).DetachFromDisposeScope());
        logScale = new Parameter(torch.zeros(eventShape.ToArray()).DetachFromDisposeScope());
        RegisterComponents();
    }

    /// <summary>The current shift <c>b</c>, detached (the caller owns it).</summary>
    public Tensor ShiftValue() => shift.detach().clone();

    /// <summary>The current scale <c>exp(s)</c>, detached (the caller owns it).</summary>
    public Tensor ScaleValue() => logScale.detach().exp();

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (torch.addcmul(shift, x, logScale.exp(), Scalars.Of(1.0)), logScale.alias());

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y) =>
        (y.sub(shift).mul(logScale.neg().exp()), logScale.neg());
}
