using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Internal;
using NormalizingFlows.Kernels;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// A masked autoregressive layer: each feature is transformed elementwise by parameters that a <see cref="Made"/> network computes
/// from the data-side features before it in the network's order (and the context).
/// Forward: <c>y_i = t(x_i; c_i(y_&lt;i, context))</c>, solved by <c>D</c> sequential network passes; log-det: <c>sum_i log|t'(x_i)|</c>.
/// Inverse: <c>x_i = t^-1(y_i; c_i(y_&lt;i, context))</c>, one network pass; log-det: <c>-sum_i log|t'(x_i)|</c> at the matching point.
/// Papamakarios, Pavlakou and Murray, "Masked Autoregressive Flow for Density Estimation" (2017); with
/// <see cref="RationalQuadraticSpline"/>, the autoregressive neural spline flow of Durkan et al. (2019).
/// </summary>
/// <remarks>
/// <para>Cost: the density direction (<see cref="Bijector.Inverse"/>, data to base, what maximum-likelihood training uses) is one
/// pass of the network. The sampling direction (<see cref="Bijector.Forward"/>) needs <c>D</c> passes, one per feature: pass
/// <c>k</c> fixes the feature of rank <c>k</c>, because its parameters depend only on features of lower rank, already final.
/// Without gradients (sampling) pass <c>k</c> runs only the part of the network those parameters depend on (the hidden units of
/// degree at most <c>k</c>; about a third of a whole pass's products on average) and one feature's transform.
/// <c>new Invert(layer)</c> swaps the two costs: the inverse autoregressive flow (Kingma et al., 2016), one pass to sample and
/// <c>D</c> passes to evaluate a density.</para>
/// <para>Stack layers with alternating orders (<see cref="Made.NaturalOrder"/>, <see cref="Made.ReversedOrder"/>) so that every
/// feature can depend on every other one.</para>
/// </remarks>
public sealed partial class MaskedAutoregressive : Bijector, IFusableLayer
{
    private readonly Made made;
    private readonly IElementwiseTransform transform;
    private readonly int features;

    /// <summary>Creates the layer from a MADE network and an elementwise transform.</summary>
    /// <param name="made">The network; its <see cref="Made.ParametersPerFeature"/> must equal the transform's.</param>
    /// <param name="transform">The elementwise transform.</param>
    /// <exception cref="ArgumentException">The network's outputs per feature do not fit the transform.</exception>
    public MaskedAutoregressive(Made made, IElementwiseTransform transform)
        : base(nameof(MaskedAutoregressive), new[] { (long)(made ?? throw new ArgumentNullException(nameof(made))).Features }, made.ContextFeatures)
    {
        ArgumentNullException.ThrowIfNull(transform);
        if (made.ParametersPerFeature != transform.ParametersPerFeature)
            throw new ArgumentException(
                $"The transform takes {transform.ParametersPerFeature} parameters per feature but the network gives {made.ParametersPerFeature}; they must match.",
                nameof(made));
        this.made = made;
        this.transform = transform;
        features = made.Features;
        RegisterComponents();
    }

    /// <summary>Creates the layer with its own <see cref="Made"/> network (output layer zero, so the layer starts as the identity).</summary>
    /// <param name="features">Number of features.</param>
    /// <param name="hiddenFeatures">Hidden widths of the network.</param>
    /// <param name="contextFeatures">Context width; 0 for none.</param>
    /// <param name="transform">The elementwise transform; null for <see cref="AffineTransform"/>.</param>
    /// <param name="order">Rank of each feature in the autoregressive order; null for the natural order.</param>
    /// <param name="residual">Use residual blocks in the network.</param>
    /// <param name="activation">Hidden nonlinearity.</param>
    /// <param name="generator">Generator for the initial weights.</param>
    public static MaskedAutoregressive WithMade(int features, IReadOnlyList<int> hiddenFeatures, int contextFeatures = 0,
        IElementwiseTransform? transform = null, IReadOnlyList<int>? order = null, bool residual = false,
        Activation activation = Activation.Relu, Generator? generator = null)
    {
        transform ??= AffineTransform.Instance;
        var made = new Made(features, transform.ParametersPerFeature, hiddenFeatures, contextFeatures, order, residual, activation, generator);
        return new MaskedAutoregressive(made, transform);
    }

    /// <summary>The MADE network.</summary>
    public Made Made => made;

    /// <summary>The elementwise transform.</summary>
    public IElementwiseTransform Transform => transform;

    /// <inheritdoc />
    /// <remarks>Runs the network <c>D</c> times (see the class remarks; without gradients, each time only the sub-network of one
    /// feature: through the fused CPU kernel where the planner says so, an affine transform and a MADE without residual
    /// blocks).</remarks>
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        if (FusedLayers.TryRun(this, x, inverse: false, context) is { } fused) return fused;
        // Pass by pass through sub-networks feeds the transform one feature at a time, which a transform with trained values of its
        // own per feature (TanhBoundedAffineTransform's bounds, a module) cannot take: it gets whole rows, pass after pass.
        if (!torch.is_grad_enabled() && transform is not nn.Module) return ForwardByRank(x, context);
        // After pass k every feature of rank below k + 1 is final; the last pass computes all parameters from final features.
        Tensor y = x;
        Tensor logAbsDet = null!;
        for (int pass = 0; pass < features; pass++)
            (y, logAbsDet) = transform.Forward(x, Parameters(y, context));
        return (y, logAbsDet.sum(1));
    }

    /// <summary>
    /// The forward map without gradients (sampling): pass <c>k</c> computes only the parameters of the feature of rank <c>k</c>,
    /// through the part of the network they depend on (<see cref="Made.BeginRankPasses"/>: about a third of the products of a whole
    /// pass on average, and one feature's transform), each pass in its own dispose scope.
    /// </summary>
    private (Tensor Output, Tensor LogAbsDet) ForwardByRank(Tensor x, Tensor? context)
    {
        long rows = x.size(0);
        var passes = made.BeginRankPasses(context, rows);
        var ranked = torch.empty(rows, features, dtype: x.dtype, device: x.device);
        var logAbsDet = torch.zeros(rows, dtype: x.dtype, device: x.device);
        int p = transform.ParametersPerFeature;
        for (int rank = 0; rank < features; rank++)
        {
            using var scope = torch.NewDisposeScope();
            int feature = passes.FeatureAtRank(rank);
            var parameters = passes.Parameters(ranked, rank).view(rows, 1, p);
            var (output, featureLogAbsDet) = transform.Forward(x.narrow(1, feature, 1), parameters);
            ranked.narrow(1, rank, 1).copy_(output);
            logAbsDet.add_(featureLogAbsDet.view(rows), Scalars.One);
        }
        using var order = torch.tensor(made.Order.Select(r => (long)r).ToArray(), device: x.device);
        return (ranked.index_select(1, order), logAbsDet);
    }

    /// <inheritdoc />
    /// <remarks>One pass of the network; through the fused CPU kernel where the planner says so (an affine transform and a MADE
    /// without residual blocks, evaluated without gradients).</remarks>
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        if (FusedLayers.TryRun(this, y, inverse: true, context) is { } fused) return fused;
        var (x, logAbsDet) = transform.Inverse(y, Parameters(y, context));
        return (x, logAbsDet.sum(1));
    }

    /// <inheritdoc />
    LayerDescription? IFusableLayer.DescribeForKernels() =>
        new AutoregressiveDescription(features, ((IFusableNetwork)made).DescribeForKernels(), made.Layout, (transform as IFusableTransform)?.DescribeForKernels());

    private Tensor Parameters(Tensor y, Tensor? context) =>
        made.call(y, context).view(y.size(0), features, transform.ParametersPerFeature);
}
