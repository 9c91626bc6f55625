using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>The standard normal distribution <c>N(0, I)</c> on <c>features</c> dimensions (no parameters).</summary>
public sealed class StandardNormal : Distribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    // Carries dtype and device through module.to(...); never read for its value.
    private readonly Tensor anchor;

    /// <summary>Creates <c>N(0, I)</c> on <paramref name="features"/> dimensions.</summary>
    public StandardNormal(int features) : base(nameof(StandardNormal), new[] { (long)features })
    {
        Guard.Features(features, nameof(features));
        anchor = torch.zeros(1).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context) =>
        x.square().sum(1).mul(-0.5).sub(EventSize * HalfLog2Pi);

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var z = SampleCore(count, context, generator);
        return (z, LogProbCore(z, context));
    }

    /// <inheritdoc />
    protected internal override Tensor SampleCore(long count, Tensor? context, Generator? generator) =>
        torch.randn(new[] { count, EventSize }, dtype: anchor.dtype, device: anchor.device, generator: generator);
}
