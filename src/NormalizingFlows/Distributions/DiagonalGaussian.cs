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
public sealed partial class DiagonalGaussian : Distribution
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
        (this.loc, logScale) = Store(torch.tensor(mean.Select(v => (float)v).ToArray()), torch.tensor(std.Select(v => (float)Math.Log(v)).ToArray()), trainable);
        RegisterComponents();
    }

    private DiagonalGaussian(Tensor loc, Tensor logScale, bool trainable) : base(nameof(DiagonalGaussian), new[] { loc.size(0) })
    {
        Trainable = trainable;
        (this.loc, this.logScale) = Store(loc, logScale, trainable);
        RegisterComponents();
    }

    /// <summary>
    /// The maximum-likelihood diagonal Gaussian of <paramref name="data"/> in closed form: per column, the sample mean and the
    /// (population, divided by N) variance plus a small ridge, <c>var_i + ridge * mean(var)</c>.
    /// </summary>
    /// <remarks>The ridge is relative to the mean variance (as in <see cref="MultivariateGaussian.FitTo"/>), so it does not
    /// depend on the data's units; it keeps a constant column's scale positive. Computed in float64; the result has the data's
    /// dtype (float32 or float64) and device.</remarks>
    /// <param name="data">Rows <c>[rows, features]</c>, at least 2 rows, floating point, finite. Not changed.</param>
    /// <param name="ridge">Relative ridge; 0 or more (default 1e-6).</param>
    /// <param name="trainable">Whether the result's mean and scale are trainable parameters.</param>
    /// <returns>The fitted distribution; the caller owns it.</returns>
    /// <exception cref="ArgumentException">The data has the wrong shape, too few rows, a non-finite value, or a column with no
    /// spread when the ridge is 0 (or no spread in any column).</exception>
    public static DiagonalGaussian FitTo(Tensor data, double ridge = 1e-6, bool trainable = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.dim() != 2)
            throw new ArgumentException($"Expected data with shape [rows, features]; got {Guard.Shape(data.shape)}.", nameof(data));
        if (data.size(0) < 2)
            throw new ArgumentException($"Expected data with at least 2 rows; got {data.size(0)}.", nameof(data));
        if (!data.is_floating_point())
            throw new ArgumentException($"Expected floating-point data; got {data.dtype}.", nameof(data));
        Guard.Finite(data, nameof(data));
        Guard.NonNegative(ridge, nameof(ridge));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = data.detach().to(ScalarType.Float64);
        var variance = x.var(0, unbiased: false);
        using var ridgeScalar = ridge.ToScalar();
        var padded = variance.add(variance.mean().mul(ridgeScalar), Scalars.One);
        if (!TensorValues.ToBoolean(padded.gt(Scalars.Zero).all()))
        {
            long column = TensorValues.ToInt64(padded.le(Scalars.Zero).nonzero()[0, 0]);
            throw new ArgumentException($"Expected data with some spread in every column (or a positive ridge); column {column} is constant.", nameof(data));
        }
        var fitted = new DiagonalGaussian(x.mean(new long[] { 0 }).to(data.dtype), padded.log().mul(Scalars.Of(0.5)).to(data.dtype), trainable);
        return fitted;
    }

    /// <summary>Takes over two fresh tensors as the module's parameters or buffers.</summary>
    private static (Tensor Loc, Tensor LogScale) Store(Tensor loc, Tensor logScale, bool trainable)
    {
        var locTensor = loc.DetachFromDisposeScope();
        var logScaleTensor = logScale.DetachFromDisposeScope();
        if (trainable)
            return (new Parameter(locTensor), new Parameter(logScaleTensor));
        return (locTensor, logScaleTensor);
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
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        return standardized.pow(Scalars.Two).sum(1).mul(Scalars.Of(-0.5)).sub(logScale.sum()).sub(normalizer);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var eps = Draw.Normal(new[] { count, EventSize }, loc.dtype, loc.device, generator);
        var x = torch.addcmul(loc, eps, logScale.exp(), Scalars.Of(1.0));
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        var logProb = eps.pow(Scalars.Two).sum(1).mul(Scalars.Of(-0.5)).sub(logScale.sum()).sub(normalizer);
        return (x, logProb);
    }
}
