using System;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>
/// A Gaussian with full covariance, <c>N(loc, L L^T)</c>, held by its lower-triangular Cholesky factor <c>L</c> (positive
/// diagonal); trainable (parameters) or fixed (buffers). <see cref="FitTo"/> fits it to data in closed form: the strongest
/// baseline a flow should beat on real data.
/// </summary>
/// <remarks>
/// <para>Log-density: <c>log N(x) = -|z|^2 / 2 - sum(log L_ii) - D log(2 pi) / 2</c> with <c>z = L^-1 (x - loc)</c> (a
/// triangular solve). Sampling: <c>x = loc + L eps</c>, <c>eps ~ N(0, I)</c>.</para>
/// <para>Stored as <c>loc</c> <c>[D]</c>, the strictly lower part of <c>L</c> (<c>lower</c> <c>[D, D]</c>, whose diagonal and upper
/// part are ignored) and <c>log L_ii</c> (<c>logDiagonal</c> <c>[D]</c>), so that any parameter values give a valid factor.</para>
/// </remarks>
public sealed class MultivariateGaussian : Distribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    private readonly Tensor loc;
    private readonly Tensor lower;
    private readonly Tensor logDiagonal;

    /// <summary>Creates the standard normal <c>N(0, I)</c> on <paramref name="features"/> dimensions, in float32 (the starting
    /// point of a trainable one, or a placeholder to load saved values into).</summary>
    /// <param name="features">Number of dimensions; at least 1.</param>
    /// <param name="trainable">Whether the mean and the Cholesky factor are trained with the model.</param>
    public MultivariateGaussian(int features, bool trainable = true) : this(StandardParts(features), trainable)
    {
    }

    /// <summary>Creates <c>N(loc, L L^T)</c> from a mean and a lower-triangular Cholesky factor, in the mean's dtype (float32 or
    /// float64) and on its device.</summary>
    /// <param name="loc">The mean, <c>[D]</c>; finite. Copied.</param>
    /// <param name="scaleTril">The Cholesky factor <c>L</c>, <c>[D, D]</c>: lower triangular (the upper part must be zero) with a
    /// positive diagonal; finite. Copied.</param>
    /// <param name="trainable">Whether the mean and the factor are trained with the model.</param>
    /// <exception cref="ArgumentException">A shape is wrong, a value is not finite, a diagonal entry is not positive or the upper
    /// part is not zero.</exception>
    public MultivariateGaussian(Tensor loc, Tensor scaleTril, bool trainable = false) : this(CheckedParts(loc, scaleTril), trainable)
    {
    }

    private MultivariateGaussian(Parts parts, bool trainable) : base(nameof(MultivariateGaussian), new[] { parts.Loc.size(0) })
    {
        Trainable = trainable;
        var locTensor = parts.Loc.DetachFromDisposeScope();
        var lowerTensor = parts.Lower.DetachFromDisposeScope();
        var logDiagonalTensor = parts.LogDiagonal.DetachFromDisposeScope();
        if (trainable)
        {
            loc = new Parameter(locTensor);
            lower = new Parameter(lowerTensor);
            logDiagonal = new Parameter(logDiagonalTensor);
        }
        else
        {
            loc = locTensor;
            lower = lowerTensor;
            logDiagonal = logDiagonalTensor;
        }
        RegisterComponents();
    }

    /// <summary>
    /// The maximum-likelihood Gaussian of <paramref name="data"/> in closed form: the sample mean and the (population, divided
    /// by N) covariance plus a small ridge, <c>S + ridge * (trace(S) / D) I</c>, factored by Cholesky.
    /// </summary>
    /// <remarks>The ridge is relative to the mean variance, so it does not depend on the data's units; it keeps the factor
    /// well defined when columns are (nearly) collinear. Computed in float64; the result has the data's dtype (float32 or
    /// float64) and device.</remarks>
    /// <param name="data">Rows <c>[rows, D]</c>, at least 2 rows, floating point, finite. Not changed.</param>
    /// <param name="ridge">Relative ridge; 0 or more (default 1e-6).</param>
    /// <param name="trainable">Whether the result's parameters are trainable (e.g. as the base of a flow, started at the fit).</param>
    /// <returns>The fitted distribution; the caller owns it.</returns>
    /// <exception cref="ArgumentException">The data has the wrong shape, too few rows, a non-finite value or no spread at all, or
    /// the covariance is not positive definite even with the ridge (the message suggests a larger one).</exception>
    public static MultivariateGaussian FitTo(Tensor data, double ridge = 1e-6, bool trainable = false)
    {
        CheckData(data, nameof(data));
        Guard.NonNegative(ridge, nameof(ridge));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = data.detach().to(ScalarType.Float64);
        long rows = x.size(0), features = x.size(1);
        var mean = x.mean(new long[] { 0 });
        var centred = x.sub(mean);
        using var rowCount = rows.ToScalar();
        var covariance = centred.t().matmul(centred).div(rowCount);
        double averageVariance = TensorValues.ToDouble(covariance.diagonal().mean());
        if (!(averageVariance > 0))
            throw new ArgumentException($"Expected data with some spread; every one of its {features} columns is constant.", nameof(data));
        using var ridgeScalar = (ridge * averageVariance).ToScalar();
        covariance = covariance.add(torch.eye(features, dtype: ScalarType.Float64, device: x.device).mul(ridgeScalar), Scalars.One);
        var (factor, info) = torch.linalg.cholesky_ex(covariance);
        if (TensorValues.ToInt64(info) != 0)
            throw new ArgumentException(
                $"The covariance of the data is not positive definite with ridge {ridge} (its columns are linearly dependent); try a larger ridge.", nameof(data));
        var dtype = data.dtype;
        var fitted = new MultivariateGaussian(mean.to(dtype), factor.to(dtype), trainable);
        return fitted;
    }

    /// <summary>Whether the mean and the Cholesky factor are trainable parameters.</summary>
    public bool Trainable { get; }

    /// <summary>The mean <c>[D]</c> (a copy the caller owns).</summary>
    public Tensor Loc => Snapshot.Copy(loc);

    /// <summary>The lower-triangular Cholesky factor <c>L</c> <c>[D, D]</c> of the covariance (a copy the caller owns).</summary>
    public Tensor ScaleTril
    {
        get
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            return scope.MoveToOuter(Factor());
        }
    }

    /// <summary>The covariance <c>L L^T</c> <c>[D, D]</c> (a copy the caller owns).</summary>
    public Tensor Covariance
    {
        get
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var l = Factor();
            return scope.MoveToOuter(l.matmul(l.t()));
        }
    }

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        // z = L^-1 (x - loc) for every row: solve z L^T = (x - loc) from the right, L^T upper triangular.
        var z = torch.linalg.solve_triangular(Factor().t(), x.sub(loc), upper: true, left: false);
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        return z.pow(Scalars.Two).sum(1).mul(Scalars.Of(-0.5)).sub(logDiagonal.sum()).sub(normalizer);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var eps = Draw.Normal(new[] { count, EventSize }, loc.dtype, loc.device, generator);
        var x = loc.add(eps.matmul(Factor().t()), Scalars.One);
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        var logProb = eps.pow(Scalars.Two).sum(1).mul(Scalars.Of(-0.5)).sub(logDiagonal.sum()).sub(normalizer);
        return (x, logProb);
    }

    /// <summary><c>L</c> from the stored parts (differentiable).</summary>
    private Tensor Factor() => lower.tril(-1).add(torch.diag_embed(logDiagonal.exp()), Scalars.One);

    private static Parts StandardParts(int features)
    {
        Guard.Features(features, nameof(features));
        return new Parts(torch.zeros(features), torch.zeros(features, features), torch.zeros(features));
    }

    private static void CheckData(Tensor data, string paramName)
    {
        ArgumentNullException.ThrowIfNull(data, paramName);
        if (data.dim() != 2)
            throw new ArgumentException($"Expected {paramName} with shape [rows, features]; got {Guard.Shape(data.shape)}.", paramName);
        if (data.size(0) < 2)
            throw new ArgumentException($"Expected {paramName} with at least 2 rows; got {data.size(0)}.", paramName);
        if (!data.is_floating_point())
            throw new ArgumentException($"Expected floating-point {paramName}; got {data.dtype}.", paramName);
        Guard.Finite(data, paramName);
    }

    private static Parts CheckedParts(Tensor loc, Tensor scaleTril)
    {
        ArgumentNullException.ThrowIfNull(loc);
        ArgumentNullException.ThrowIfNull(scaleTril);
        if (loc.dim() != 1 || loc.size(0) < 1)
            throw new ArgumentException($"Expected loc with shape [features]; got {Guard.Shape(loc.shape)}.", nameof(loc));
        long d = loc.size(0);
        if (!loc.is_floating_point())
            throw new ArgumentException($"Expected a floating-point loc; got {loc.dtype}.", nameof(loc));
        if (scaleTril.dim() != 2 || scaleTril.size(0) != d || scaleTril.size(1) != d)
            throw new ArgumentException($"Expected scaleTril with shape [{d}, {d}]; got {Guard.Shape(scaleTril.shape)}.", nameof(scaleTril));
        Guard.Finite(loc.reshape(1, -1), nameof(loc));
        Guard.Finite(scaleTril, nameof(scaleTril));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var diagonal = scaleTril.diagonal().to(ScalarType.Float64);
        if (!TensorValues.ToBoolean(diagonal.gt(Scalars.Zero).all()))
        {
            long i = TensorValues.ToInt64(diagonal.le(Scalars.Zero).nonzero()[0, 0]);
            throw new ArgumentException($"Expected scaleTril with a positive diagonal; scaleTril[{i}, {i}] = {TensorValues.ToDouble(diagonal[i])}.", nameof(scaleTril));
        }
        if (TensorValues.ToBoolean(scaleTril.triu(1).ne(Scalars.Zero).any()))
            throw new ArgumentException("Expected a lower-triangular scaleTril; its upper part (above the diagonal) is not zero.", nameof(scaleTril));
        var factor = scaleTril.detach().to(loc.dtype, loc.device);
        var parts = new Parts(loc.detach().clone(), factor.tril(-1), factor.diagonal().log());
        scope.MoveToOuter(parts.Loc, parts.Lower, parts.LogDiagonal);
        return parts;
    }

    private readonly record struct Parts(Tensor Loc, Tensor Lower, Tensor LogDiagonal);
}
