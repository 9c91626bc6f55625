using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// A fixed per-feature affine map between standardised units and data units, fitted once to training data.
/// Forward: <c>y = z * scale + mean</c>; log-det: <c>sum(log scale)</c>.
/// Inverse: <c>z = (y - mean) / scale</c>; log-det: <c>-sum(log scale)</c>.
/// Placed at the data end of a flow (last in its chain), it lets the rest of the flow work on data of mean 0 and
/// standard deviation 1 while the flow's log-densities stay in the data's own units, this log-det included.
/// </summary>
/// <remarks>
/// Mean and scale are buffers, not parameters: training leaves them alone, <c>to(device or dtype)</c> moves them and
/// <c>state_dict</c> saves them (keys <c>mean</c> and <c>scale</c>). To load a saved model, build it with a
/// <see cref="Standardization(int)"/> of the right width in the same place and load the state into it.
/// See <see cref="Data.FlowStandardization.Standardized(Flow, Tensor)"/> to put one at the end of a flow.
/// </remarks>
public sealed partial class Standardization : ElementwiseBijector, Kernels.IFusableLayer
{
    // Buffers (plain tensors; RegisterComponents registers them as buffers). The field names are the state_dict keys.
    private readonly Tensor mean;
    private readonly Tensor scale;

    /// <summary>Creates the identity standardisation (mean 0, scale 1) on <paramref name="features"/> features, in float32:
    /// a placeholder to load a saved state into.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Standardization(int features) : base(nameof(Standardization), FeatureShape(features))
    {
        mean = torch.zeros(features).DetachFromDisposeScope();
        scale = torch.ones(features).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Creates a standardisation with the given mean and scale of each feature, in float32.</summary>
    /// <param name="mean">The mean of each feature; finite.</param>
    /// <param name="scale">The scale (standard deviation) of each feature; positive and finite; as many as means.</param>
    /// <exception cref="ArgumentException">A value is out of range, the lists are empty or their lengths differ.</exception>
    public Standardization(IReadOnlyList<double> mean, IReadOnlyList<double> scale)
        : this((ToTensor(CheckMeans(mean)), ToTensor(CheckScales(scale, mean.Count))))
    {
    }

    /// <summary>Creates a standardisation from tensors of the mean and scale of each feature (the values are copied;
    /// the type and device are theirs).</summary>
    /// <param name="mean">Means, <c>[features]</c>; finite.</param>
    /// <param name="scale">Scales, <c>[features]</c>; positive and finite; the same type and device as <paramref name="mean"/>.</param>
    /// <exception cref="ArgumentException">A shape, type or value is wrong.</exception>
    public static Standardization FromTensors(Tensor mean, Tensor scale) => new(CheckedCopy(mean, scale));

    // Takes over both tensors (fresh ones, made for this object).
    private Standardization((Tensor Mean, Tensor Scale) values) : base(nameof(Standardization), new[] { values.Mean.size(0) })
    {
        mean = values.Mean.DetachFromDisposeScope();
        scale = values.Scale.DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>
    /// Fits a standardisation to training rows: each feature's mean and population standard deviation (dividing by the
    /// number of rows, so that the standardised training data has standard deviation exactly 1), computed in float64 and
    /// stored in the type and on the device of <paramref name="data"/>.
    /// </summary>
    /// <param name="data">Training rows <c>[rows, features]</c>, floating point; every value finite. Not disposed.</param>
    /// <exception cref="ArgumentException"><paramref name="data"/> has the wrong shape or type, a non-finite value (the
    /// message names its row and column), or a constant column (the message names the column), whose scale would be 0.</exception>
    public static Standardization FitTo(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.dim() != 2)
            throw new ArgumentException($"Expected data with shape [rows, features]; got {Guard.Shape(data.shape)}.", nameof(data));
        if (data.size(0) == 0 || data.size(1) == 0)
            throw new ArgumentException($"Expected data with at least one row and one feature; got shape {Guard.Shape(data.shape)}.", nameof(data));
        if (!data.is_floating_point())
            throw new ArgumentException($"Expected data to hold floating-point values; got {data.dtype}.", nameof(data));
        Guard.Finite(data, nameof(data));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var values = data.detach().to(ScalarType.Float64);
        var constant = values.amax(0).eq(values.amin(0));
        if (constant.any().item<bool>())
        {
            long column = constant.nonzero()[0, 0].item<long>();
            double value = values[0, column].item<double>();
            throw new ArgumentException(
                $"Column {column} of data is constant (every row is {value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}): its standard deviation is 0, so it cannot be standardised. Drop the column.",
                nameof(data));
        }
        var mean = values.mean(new long[] { 0 });
        var scale = values.sub(mean).pow(Scalars.Two).mean(new long[] { 0 }).sqrt();
        return new Standardization((mean.to(data.dtype), scale.to(data.dtype)));
    }

    /// <summary>The mean of each feature, <c>[features]</c> (a copy the caller owns).</summary>
    public Tensor Mean() => mean.detach().clone();

    /// <summary>The scale of each feature, <c>[features]</c> (a copy the caller owns).</summary>
    public Tensor Scale() => scale.detach().clone();

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (x.mul(scale).add(mean, Scalars.One), scale.log());

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y) =>
        (y.sub(mean).div(scale), scale.log().neg());

    private static Tensor ToTensor(IReadOnlyList<double> values) => torch.tensor(values.ToArray(), dtype: ScalarType.Float32);

    private static IReadOnlyList<double> CheckMeans(IReadOnlyList<double> mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        if (mean.Count == 0) throw new ArgumentException("Expected at least one mean; got none.", nameof(mean));
        for (int i = 0; i < mean.Count; i++)
            if (!double.IsFinite(mean[i])) throw new ArgumentException($"mean[{i}] must be finite; got {mean[i]}.", nameof(mean));
        return mean;
    }

    private static IReadOnlyList<double> CheckScales(IReadOnlyList<double> scale, int features)
    {
        ArgumentNullException.ThrowIfNull(scale);
        if (scale.Count != features)
            throw new ArgumentException($"Expected {features} scales (one per mean); got {scale.Count}.", nameof(scale));
        for (int i = 0; i < scale.Count; i++)
            if (!(scale[i] > 0) || double.IsInfinity(scale[i]))
                throw new ArgumentException($"scale[{i}] must be positive and finite; got {scale[i]}.", nameof(scale));
        return scale;
    }

    private static (Tensor Mean, Tensor Scale) CheckedCopy(Tensor mean, Tensor scale)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        if (mean.dim() != 1 || mean.size(0) == 0)
            throw new ArgumentException($"Expected mean with shape [features]; got {Guard.Shape(mean.shape)}.", nameof(mean));
        if (!scale.shape.SequenceEqual(mean.shape))
            throw new ArgumentException($"Expected scale with shape {Guard.Shape(mean.shape)} (as mean); got {Guard.Shape(scale.shape)}.", nameof(scale));
        if (!mean.is_floating_point() || scale.dtype != mean.dtype || scale.device_type != mean.device_type || scale.device_index != mean.device_index)
            throw new ArgumentException($"Expected floating-point mean and scale of one type on one device; got {mean.dtype} on {mean.device} and {scale.dtype} on {scale.device}.", nameof(scale));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        CheckMeans(mean.to(ScalarType.Float64).cpu().data<double>().ToArray());
        CheckScales(scale.to(ScalarType.Float64).cpu().data<double>().ToArray(), (int)mean.size(0));
        return scope.MoveToOuter(mean.detach().clone(), scale.detach().clone());
    }

    /// <inheritdoc />
    Kernels.LayerDescription? Kernels.IFusableLayer.DescribeForKernels() => new Kernels.FixedElementwiseDescription();
}
