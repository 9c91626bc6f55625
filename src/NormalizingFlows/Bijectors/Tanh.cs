using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise hyperbolic tangent: maps the real line onto the interval (-1, 1).
/// Forward: <c>y = tanh(x)</c>; log-det: <c>sum(log(1 - tanh(x)^2)) = sum(2 (log 2 - x - softplus(-2x)))</c>.
/// Inverse: <c>x = atanh(y) = (log(1 + y) - log(1 - y)) / 2</c>; log-det: <c>-sum(log(1 + y) + log(1 - y))</c>.
/// As TFP's and distrax's <c>Tanh</c> bijector; squashes samples into a box (e.g. Haarnoja et al., "Soft actor-critic", 2018, appendix C).
/// </summary>
/// <remarks>The inverse needs <c>-1 &lt; y &lt; 1</c>; exactly -1 or 1 gives <c>-inf</c> or <c>inf</c>. The forward log-derivative uses the softplus form, finite even where <c>tanh(x)</c> rounds to 1.</remarks>
public sealed partial class Tanh : ElementwiseBijector
{
    /// <summary>Creates the map on <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Tanh(int features) : base(nameof(Tanh), FeatureShape(features))
    {
    }

    /// <summary>Creates the map on events of any shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public Tanh(IReadOnlyList<long> eventShape) : base(nameof(Tanh), CopyShape(eventShape))
    {
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (x.tanh(), StableMath.LogTanhDerivative(x));

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y)
    {
        var logOnePlusY = y.log1p();
        var logOneMinusY = y.neg().log1p();
        return (logOnePlusY.sub(logOneMinusY).mul(Scalars.Of(0.5)), logOnePlusY.add(logOneMinusY, Scalars.One).neg());
    }
}
