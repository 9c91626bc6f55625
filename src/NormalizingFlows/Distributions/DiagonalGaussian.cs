using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>
/// A Gaussian with diagonal covariance, <c>N(loc, diag(scale^2))</c>; trainable (parameters) or fixed (buffers).
/// The scale is stored as its logarithm.
/// </summary>
public sealed class DiagonalGaussian : Distribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    private readonly Tensor loc;
    private readonly Tensor logScale;

    /// <summary>Creates <c>N(loc, diag(scale^2))</c>.</summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="trainable">Whether the mean and scale are trained with the flow.</param>
    /// <param name="loc">Initial mean per feature; null for zeros.</param>
    /// <param name="scale">Initial standard deviation per feature (positive); null for ones.</param>
    public DiagonalGaussian(int features, bool trainable = true, IReadOnlyList<double>? loc = null, IReadOnlyList<double>? scale = null)
        : base(nameof(DiagonalGaussian), new[] { (long)features })
    {
        Guard.Features(features, nameof(features));
        var mean = loc?.ToArray() ?? new double[features];
        var std = scale?.ToArray() ?? Enumerable.Repeat(1.0, features).ToArray();
        if (mean.Length != features) throw new ArgumentException($"Expected loc with {features} values; got {mean.Length}.", nameof(loc));
        if (std.Length != features) throw new ArgumentException($"Expected scale with {features} values; got {std.Length}.", nameof(scale));
        for (int i = 0; i < features; i++)
        {
            if (!double.IsFinite(mean[i])) throw new ArgumentException($"loc[{i}] must be finite; got {mean[i]}.", nameof(loc));
            if (!(std[i] > 0) || !double.IsFinite(std[i])) throw new ArgumentException($"scale[{i}] must be positive and finite; got {std[i]}.", nameof(scale));
        }
        Trainable = trainable;
        var locTensor = torch.tensor(mean.Select(v => (float)v).ToArray()).DetachFromDisposeScope();
        var logScaleTensor = torch.tensor(std.Select(v => (float)Math.Log(v)).ToArray()).DetachFromDisposeScope();
        if (trainable)
        {
            this.loc = new Parameter(locTensor);
            logScale = new Parameter(logScaleTensor);
        }
        else
        {
            this.loc = locTensor;
            logScale = logScaleTensor;
        }
        RegisterComponents();
    }

    /// <summary>Whether the mean and scale are trainable parameters.</summary>
    public bool Trainable { get; }

    /// <summary>The current mean (a copy the caller owns).</summary>
    public Tensor Loc => Snapshot.Copy(loc);

    /// <summary>The current standard deviation (a copy the caller owns).</summary>
    public Tensor Scale => Snapshot.Map(logScale, t => t.exp());

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        var standardized = x.sub(loc).mul(logScale.neg().exp());
        return standardized.square().sum(1).mul(-0.5).sub(logScale.sum()).sub(EventSize * HalfLog2Pi);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var eps = torch.randn(new[] { count, EventSize }, dtype: loc.dtype, device: loc.device, generator: generator);
        var x = torch.addcmul(loc, eps, logScale.exp(), 1.0);
        var logProb = eps.square().sum(1).mul(-0.5).sub(logScale.sum()).sub(EventSize * HalfLog2Pi);
        return (x, logProb);
    }
}
