using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using NormalizingFlows.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise leaky ReLU whose slope is learned: <c>a = softplus(r) + m</c>, with <c>r</c> trainable and a fixed
/// minimum <c>m &gt; 0</c> that keeps the layer invertible.
/// Forward: <c>y = x</c> for <c>x &gt; 0</c>, <c>a x</c> otherwise; log-det: <c>sum over elements with x &lt;= 0 of log(a)</c>.
/// Inverse: <c>x = y</c> for <c>y &gt; 0</c>, <c>y / a</c> otherwise; log-det: <c>-sum over elements with y &lt;= 0 of log(a)</c>.
/// The learnable leaky ReLU layer of the second source tutorial ("Normalizing flows, a simple example", 2023), as in
/// the PyTorch reference's <c>LeakyReLUFlow</c>; one slope shared by every feature unless <c>perFeature</c> is set.
/// </summary>
/// <remarks>At the kink, <c>x = 0</c>, both directions use the slope <c>a</c> (the derivative autograd also takes there).
/// The slope has no upper bound; a slope above 1 is still a bijection.</remarks>
public sealed partial class LearnableLeakyRelu : ElementwiseBijector, IFusableLayer
{
    private readonly Parameter rawSlope;
    private readonly double minimumSlope;

    /// <summary>Creates the layer on <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    /// <param name="initialSlope">The starting slope, above <paramref name="minimumSlope"/>; null for
    /// <c>log(2) + minimumSlope</c> (raw parameter 0, as the reference), about 0.694.</param>
    /// <param name="minimumSlope">The fixed lower bound <c>m</c> of the slope; positive.</param>
    /// <param name="perFeature">True for one slope per feature, false for one slope shared by all.</param>
    public LearnableLeakyRelu(int features, double? initialSlope = null, double minimumSlope = 1e-3, bool perFeature = false)
        : this(FeatureShape(features), initialSlope, minimumSlope, perFeature)
    {
    }

    /// <summary>Creates the layer on events of any shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    /// <param name="initialSlope">The starting slope, above <paramref name="minimumSlope"/>; null for <c>log(2) + minimumSlope</c>.</param>
    /// <param name="minimumSlope">The fixed lower bound of the slope; positive.</param>
    /// <param name="perFeature">True for one slope per element of the event, false for one shared slope.</param>
    public LearnableLeakyRelu(IReadOnlyList<long> eventShape, double? initialSlope = null, double minimumSlope = 1e-3, bool perFeature = false)
        : base(nameof(LearnableLeakyRelu), CopyShape(eventShape))
    {
        if (!(minimumSlope > 0) || double.IsInfinity(minimumSlope))
            throw new ArgumentOutOfRangeException(nameof(minimumSlope), minimumSlope, $"minimumSlope must be positive and finite; got {minimumSlope}.");
        double raw = 0;
        if (initialSlope is double start)
        {
            if (!(start > minimumSlope) || double.IsInfinity(start))
                throw new ArgumentOutOfRangeException(nameof(initialSlope), start, $"initialSlope must be finite and above minimumSlope ({minimumSlope}); got {start}.");
            raw = StableMath.SoftplusInverse(start - minimumSlope);
        }
        this.minimumSlope = minimumSlope;
        PerFeature = perFeature;
        long[] shape = perFeature ? eventShape.ToArray() : new[] { 1L };
        using var rawValue = raw.ToScalar();
        rawSlope = new Parameter(torch.full(shape, rawValue).DetachFromDisposeScope());
        RegisterComponents();
    }

    /// <summary>The fixed lower bound of the slope.</summary>
    public double MinimumSlope => minimumSlope;

    /// <summary>Whether each element of the event has its own slope.</summary>
    public bool PerFeature { get; }

    /// <summary>The current slope(s) <c>softplus(r) + m</c>, detached (the caller owns the tensor): shape <c>[1]</c>, or the event shape per feature.</summary>
    public Tensor Slope()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return scope.MoveToOuter(CurrentSlope());
    }

    /// <inheritdoc />
    private protected override (Tensor Output, Tensor LogAbsDet)? Fused(Tensor x, bool inverse) =>
        FusedLayers.TryRun(this, x, inverse);

    /// <inheritdoc />
    LayerDescription? IFusableLayer.DescribeForKernels() =>
        new LeakyReluDescription((int)EventShape.Aggregate(1L, (a, b) => a * b), minimumSlope, () => new Tensor[] { rawSlope });

    private Tensor CurrentSlope()
    {
        using var minimum = minimumSlope.ToScalar();
        return StableMath.Softplus(rawSlope).add(minimum, Scalars.One);
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x)
    {
        var slope = CurrentSlope();
        var negative = x.le(Scalars.Of(0.0));
        return (torch.where(negative, x.mul(slope), x), negative.to_type(x.dtype).mul(slope.log()));
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y)
    {
        var slope = CurrentSlope();
        var negative = y.le(Scalars.Of(0.0));
        return (torch.where(negative, y.div(slope), y), negative.to_type(y.dtype).mul(slope.log().neg()));
    }
}
