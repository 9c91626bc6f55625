using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise softplus: maps the real line onto the positive half-line, close to the identity for large inputs.
/// Forward: <c>y = log(1 + exp(x))</c>; log-det: <c>sum(log sigmoid(x))</c>.
/// Inverse: <c>x = y + log(-expm1(-y))</c>; log-det: <c>-sum(log(-expm1(-y)))</c>.
/// As TFP's <c>Softplus</c> bijector; used to keep scales positive (e.g. Durkan et al., "Neural spline flows", 2019).
/// </summary>
/// <remarks>The inverse needs <c>y &gt; 0</c>. Both directions use overflow-free formulas: <c>softplus(x) = logaddexp(x, 0)</c>, <c>log sigmoid(x) = -softplus(-x)</c>, and <c>log(-expm1(-y))</c>, which keeps full precision as <c>y</c> approaches 0.</remarks>
public sealed partial class Softplus : ElementwiseBijector
{
    /// <summary>Creates the map on <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Softplus(int features) : base(nameof(Softplus), FeatureShape(features))
    {
    }

    /// <summary>Creates the map on events of any shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public Softplus(IReadOnlyList<long> eventShape) : base(nameof(Softplus), CopyShape(eventShape))
    {
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (StableMath.Softplus(x), StableMath.LogSigmoid(x));

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y) =>
        (StableMath.SoftplusInverse(y), StableMath.LogOneMinusExpNeg(y).neg());
}
