using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise logit: maps the interval (0, 1) onto the real line (the inverse of <see cref="Sigmoid"/>).
/// Forward: <c>y = log(x) - log(1 - x)</c>; log-det: <c>-sum(log(x) + log(1 - x))</c>.
/// Inverse: <c>x = sigmoid(y)</c>; log-det: <c>sum(log sigmoid(y) + log sigmoid(-y))</c>.
/// The logit preprocessing of Dinh et al., "Density estimation using Real NVP" (2017); equal to <c>new Invert(new Sigmoid(features))</c>.
/// </summary>
/// <remarks>Forward needs <c>0 &lt; x &lt; 1</c> (a base on the unit cube, e.g. a uniform base); exactly 0 or 1 gives <c>-inf</c> or <c>inf</c>.</remarks>
public sealed partial class Logit : ElementwiseBijector
{
    /// <summary>Creates the map on <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Logit(int features) : base(nameof(Logit), FeatureShape(features))
    {
    }

    /// <summary>Creates the map on events of any shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public Logit(IReadOnlyList<long> eventShape) : base(nameof(Logit), CopyShape(eventShape))
    {
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x)
    {
        var logX = x.log();
        var logOneMinusX = x.neg().log1p();
        return (logX.sub(logOneMinusX), logX.add(logOneMinusX, Scalars.One).neg());
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y) =>
        (y.sigmoid(), StableMath.LogSigmoid(y).add(StableMath.LogSigmoid(y.neg()), Scalars.One));
}
