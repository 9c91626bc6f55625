using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise logistic sigmoid: maps the real line onto the interval (0, 1).
/// Forward: <c>y = sigmoid(x)</c>; log-det: <c>sum(log sigmoid(x) + log sigmoid(-x))</c>.
/// Inverse: <c>x = log(y) - log(1 - y)</c>; log-det: <c>-sum(log(y) + log(1 - y))</c>.
/// As TFP's and distrax's <c>Sigmoid</c> bijector; the inverse is the logit preprocessing of Dinh et al., "Density estimation using Real NVP" (2017). <see cref="Logit"/> is the same map with the directions swapped.
/// </summary>
/// <remarks>The inverse needs <c>0 &lt; y &lt; 1</c>; exactly 0 or 1 gives <c>-inf</c> or <c>inf</c>. The forward log-derivative is <c>-softplus(-x) - softplus(x)</c>, finite even where <c>sigmoid(x)</c> rounds to 0 or 1.</remarks>
public sealed partial class Sigmoid : ElementwiseBijector
{
    /// <summary>Creates the map on <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Sigmoid(int features) : base(nameof(Sigmoid), FeatureShape(features))
    {
    }

    /// <summary>Creates the map on events of any shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public Sigmoid(IReadOnlyList<long> eventShape) : base(nameof(Sigmoid), CopyShape(eventShape))
    {
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (x.sigmoid(), StableMath.LogSigmoid(x).add(StableMath.LogSigmoid(x.neg()), Scalars.One));

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y)
    {
        var logY = y.log();
        var logOneMinusY = y.neg().log1p();
        return (logY.sub(logOneMinusY), logY.add(logOneMinusY, Scalars.One).neg());
    }
}
