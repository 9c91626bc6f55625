using System;
using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise leaky ReLU with a fixed positive slope <c>a</c> for non-positive inputs.
/// Forward: <c>y = x</c> for <c>x &gt; 0</c>, <c>a x</c> otherwise; log-det: <c>log(a)</c> times the number of elements with <c>x &lt;= 0</c>.
/// Inverse: <c>x = y</c> for <c>y &gt; 0</c>, <c>y / a</c> otherwise; log-det: <c>-log(a)</c> times the number of elements with <c>y &lt;= 0</c>.
/// A piecewise-linear flow layer as in the second source tutorial; see <see cref="LearnableLeakyRelu"/> for a trained slope
/// (Papamakarios et al., "Normalizing flows for probabilistic modeling and inference", 2021, section 3.1).
/// </summary>
/// <remarks>At the kink, <c>x = 0</c>, both directions use the slope <c>a</c> (the derivative autograd also takes there), so
/// a round trip through 0 is exact and the log-dets stay opposite.</remarks>
public sealed partial class LeakyRelu : ElementwiseBijector
{
    private readonly double slope;

    /// <summary>Creates the layer on <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    /// <param name="slope">The slope for non-positive inputs; positive and finite (1 is the identity).</param>
    public LeakyRelu(int features, double slope = 0.01) : this(FeatureShape(features), slope)
    {
    }

    /// <summary>Creates the layer on events of any shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    /// <param name="slope">The slope for non-positive inputs; positive and finite.</param>
    public LeakyRelu(IReadOnlyList<long> eventShape, double slope = 0.01) : base(nameof(LeakyRelu), CopyShape(eventShape))
    {
        if (!(slope > 0) || double.IsInfinity(slope))
            throw new ArgumentOutOfRangeException(nameof(slope), slope, $"The slope of a leaky ReLU flow layer must be positive and finite (else it is not invertible); got {slope}.");
        this.slope = slope;
    }

    /// <summary>The slope for non-positive inputs.</summary>
    public double Slope => slope;

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x)
    {
        using var slopeScalar = slope.ToScalar();
        using var logSlope = Math.Log(slope).ToScalar();
        var negative = x.le(Scalars.Of(0.0));
        return (torch.where(negative, x.mul(slopeScalar), x), negative.to_type(x.dtype).mul(logSlope));
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y)
    {
        using var slopeScalar = slope.ToScalar();
        using var minusLogSlope = (-Math.Log(slope)).ToScalar();
        var negative = y.le(Scalars.Of(0.0));
        return (torch.where(negative, y.div(slopeScalar), y), negative.to_type(y.dtype).mul(minusLogSlope));
    }
}
