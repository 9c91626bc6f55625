using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Kernels;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// A coupling layer: the features a mask marks are transformed elementwise by parameters that a
/// conditioner computes from the other features (and the context); the other features pass through.
/// Forward: <c>y_A = x_A</c>, <c>y_B = t(x_B; c(x_A, context))</c>; log-det: the sum of <c>t</c>'s log-derivatives.
/// Inverse: <c>x_A = y_A</c>, <c>x_B = t^-1(y_B; c(y_A, context))</c>; log-det: minus the same sum at the matching point.
/// With <see cref="AffineTransform"/> this is RealNVP's affine coupling (Dinh et al., 2017); with
/// <see cref="AdditiveTransform"/> NICE's additive coupling (Dinh et al., 2015); with <see cref="TanhBoundedAffineTransform"/>
/// the second source tutorial's coupling with a learnable bound on the log-scale.
/// </summary>
/// <remarks>A transform that is itself an <see cref="nn.Module"/> (one with trainable state, such as
/// <see cref="TanhBoundedAffineTransform"/>) is registered as the submodule <c>transform</c>: its parameters are part of
/// this layer's <c>parameters()</c>, follow <c>.to(...)</c> and are disposed with it. Give each layer its own instance.</remarks>
public sealed partial class Coupling : Bijector, IFusableLayer
{
    private readonly Conditioner conditioner;
    private readonly Tensor identityIndices;
    private readonly Tensor transformedIndices;
    private readonly bool[] mask;
    private readonly IElementwiseTransform transform;
    private readonly int identityCount;
    private readonly int transformedCount;
    private readonly bool contiguous;

    /// <summary>Creates a coupling layer.</summary>
    /// <param name="mask">One entry per feature: true for a feature the layer transforms, false for one it passes through and conditions on.</param>
    /// <param name="conditioner">Maps the pass-through features (and context) to the transform's parameters:
    /// <c>InFeatures</c> = number of false entries, <c>OutFeatures</c> = number of true entries x <c>ParametersPerFeature</c>.</param>
    /// <param name="transform">The elementwise transform; one that is an <see cref="nn.Module"/> becomes a submodule of this layer.</param>
    /// <exception cref="ArgumentException">The mask transforms nothing or everything, or the conditioner's or transform's widths do not fit.</exception>
    public Coupling(IReadOnlyList<bool> mask, Conditioner conditioner, IElementwiseTransform transform)
        : base(nameof(Coupling), new[] { (long)CheckMask(mask).Count }, (conditioner ?? throw new ArgumentNullException(nameof(conditioner))).ContextFeatures)
    {
        ArgumentNullException.ThrowIfNull(transform);
        this.mask = mask.ToArray();
        this.transform = transform;
        var transformed = Enumerable.Range(0, this.mask.Length).Where(i => this.mask[i]).Select(i => (long)i).ToArray();
        var identity = Enumerable.Range(0, this.mask.Length).Where(i => !this.mask[i]).Select(i => (long)i).ToArray();
        identityCount = identity.Length;
        transformedCount = transformed.Length;
        if (conditioner.InFeatures != identityCount)
            throw new ArgumentException(
                $"The mask passes {identityCount} features through, so the conditioner must take {identityCount} inputs; it takes {conditioner.InFeatures}.", nameof(conditioner));
        if (transform is TanhBoundedAffineTransform bounded && bounded.Features != transformedCount)
            throw new ArgumentException(
                $"The mask transforms {transformedCount} features but the transform was made for {bounded.Features}; they must match.", nameof(transform));
        int expected = transformedCount * transform.ParametersPerFeature;
        if (conditioner.OutFeatures != expected)
            throw new ArgumentException(
                $"The mask transforms {transformedCount} features with {transform.ParametersPerFeature} parameters each, so the conditioner must give {expected} outputs; it gives {conditioner.OutFeatures}.",
                nameof(conditioner));
        // Pass-through features first and transformed ones after: then split and merge are narrow and cat.
        contiguous = identity.Concat(transformed).Select((v, i) => v == i).All(b => b);
        this.conditioner = conditioner;
        identityIndices = torch.tensor(identity, dtype: ScalarType.Int64).DetachFromDisposeScope();
        transformedIndices = torch.tensor(transformed, dtype: ScalarType.Int64).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Creates an affine coupling whose conditioner is an <see cref="Mlp"/> (last layer zero, so the layer starts as the identity).</summary>
    /// <param name="mask">True for a feature the layer transforms.</param>
    /// <param name="hiddenFeatures">Hidden widths of the conditioner.</param>
    /// <param name="contextFeatures">Context width; 0 for none.</param>
    /// <param name="transform">The elementwise transform; null for <see cref="AffineTransform"/>.</param>
    /// <param name="activation">Hidden nonlinearity.</param>
    /// <param name="generator">Generator for the initial weights.</param>
    public static Coupling WithMlp(IReadOnlyList<bool> mask, IReadOnlyList<int> hiddenFeatures, int contextFeatures = 0,
        IElementwiseTransform? transform = null, Activation activation = Activation.Relu, Generator? generator = null)
    {
        CheckMask(mask);
        transform ??= AffineTransform.Instance;
        int transformed = mask.Count(m => m);
        var net = new Mlp(mask.Count - transformed, transformed * transform.ParametersPerFeature, hiddenFeatures, contextFeatures, activation, true, generator);
        return new Coupling(mask, net, transform);
    }

    /// <summary>The mask: true for each feature the layer transforms.</summary>
    public IReadOnlyList<bool> Mask => mask;

    /// <summary>The conditioner network.</summary>
    public Conditioner Conditioner => conditioner;

    /// <summary>The elementwise transform.</summary>
    public IElementwiseTransform Transform => transform;

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) => Apply(x, context, inverse: false);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) => Apply(y, context, inverse: true);

    private (Tensor Output, Tensor LogAbsDet) Apply(Tensor x, Tensor? context, bool inverse) =>
        FusedLayers.TryRun(this, x, inverse, context) ?? ApplyByOperations(x, context, inverse);

    /// <inheritdoc />
    LayerDescription? IFusableLayer.DescribeForKernels() =>
        new CouplingDescription(mask, (conditioner as IFusableNetwork)?.DescribeForKernels(), (transform as IFusableTransform)?.DescribeForKernels());

    /// <summary>The layer as libtorch operations, one per step (the path every device and dtype can take; the fused kernel's
    /// reference).</summary>
    internal (Tensor Output, Tensor LogAbsDet) ApplyByOperations(Tensor x, Tensor? context, bool inverse)
    {
        Tensor pass, moving;
        if (contiguous)
        {
            pass = x.narrow(1, 0, identityCount);
            moving = x.narrow(1, identityCount, transformedCount);
        }
        else
        {
            pass = x.index_select(1, identityIndices);
            moving = x.index_select(1, transformedIndices);
        }
        var parameters = conditioner.call(pass, context).view(x.size(0), transformedCount, transform.ParametersPerFeature);
        var (moved, logAbsDet) = inverse ? transform.Inverse(moving, parameters) : transform.Forward(moving, parameters);
        var output = contiguous ? torch.cat(new[] { pass, moved }, 1) : x.index_copy(1, transformedIndices, moved);
        return (output, logAbsDet.sum(1));
    }

    private static IReadOnlyList<bool> CheckMask(IReadOnlyList<bool> mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        int transformed = mask.Count(m => m);
        if (transformed == 0 || transformed == mask.Count)
            throw new ArgumentException(
                $"The mask must transform some features and pass others through; it has {transformed} of {mask.Count} marked for transformation.", nameof(mask));
        return mask;
    }
}
