using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>The standard normal distribution <c>N(0, I)</c> on <c>features</c> dimensions, or on events of any shape
/// such as images <c>[channels, height, width]</c> (no parameters).</summary>
public sealed partial class StandardNormal : Distribution, Kernels.IFusableDistribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    // Carries dtype and device through module.to(...); never read for its value.
    private readonly Tensor anchor;

    /// <summary>Creates <c>N(0, I)</c> on <paramref name="features"/> dimensions.</summary>
    public StandardNormal(int features) : this(FeatureShape(features))
    {
    }

    /// <summary>Creates <c>N(0, I)</c> on images <c>[channels, height, width]</c>: every pixel of every channel independent.</summary>
    /// <param name="channels">Image channels; at least 1.</param>
    /// <param name="height">Image height; at least 1.</param>
    /// <param name="width">Image width; at least 1.</param>
    public StandardNormal(int channels, int height, int width) : this(ImageShape(channels, height, width))
    {
    }

    /// <summary>Creates <c>N(0, I)</c> on events of the given shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[features]</c> or <c>[channels, height, width]</c>; positive sizes.</param>
    /// <exception cref="ArgumentException">The shape is empty or has a size below 1.</exception>
    public StandardNormal(IReadOnlyList<long> eventShape) : base(nameof(StandardNormal), eventShape)
    {
        anchor = torch.zeros(1).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <inheritdoc />
    /// <remarks>Events of one dimension only (the kernels' rows).</remarks>
    Kernels.DistributionDescription? Kernels.IFusableDistribution.DescribeForKernels() =>
        EventShape.Count == 1 ? new Kernels.StandardNormalDescription((int)EventSize, EventSize * HalfLog2Pi) : null;

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        return x.reshape(x.size(0), -1).pow(Scalars.Two).sum(1).mul(Scalars.Of(-0.5)).sub(normalizer);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var z = SampleCore(count, context, generator);
        return (z, LogProbCore(z, context));
    }

    /// <inheritdoc />
    protected internal override Tensor SampleCore(long count, Tensor? context, Generator? generator) =>
        Draw.Normal(EventShape.Prepend(count).ToArray(), anchor.dtype, anchor.device, generator);

    private static long[] FeatureShape(int features)
    {
        Guard.Features(features, nameof(features));
        return new[] { (long)features };
    }

    private static long[] ImageShape(int channels, int height, int width)
    {
        Guard.Features(channels, nameof(channels));
        Guard.Features(height, nameof(height));
        Guard.Features(width, nameof(width));
        return new long[] { channels, height, width };
    }
}
