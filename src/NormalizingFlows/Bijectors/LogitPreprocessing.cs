using System;
using System.Collections.Generic;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// RealNVP's logit preprocessing of data in the unit interval, the data end of an image flow: data <c>x</c> in (0, 1) is pulled
/// in to <c>p = alpha + (1 - 2 alpha) x</c> and mapped to the reals by the logit. Elementwise, on events of any shape.
/// Forward (base to data): <c>x = (sigmoid(y) - alpha) / (1 - 2 alpha)</c>; log-det: <c>sum(log sigmoid(y) + log sigmoid(-y) - log(1 - 2 alpha))</c>.
/// Inverse (data to base): <c>y = logit(p) = log(p) - log(1 - p)</c>, <c>p = alpha + (1 - 2 alpha) x</c>; log-det:
/// <c>sum(log(1 - 2 alpha) - log(p) - log(1 - p))</c>.
/// Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP" (2017), section 4.1.
/// </summary>
/// <remarks>
/// <para>Why <c>alpha</c>: dequantised pixels fill the whole of [0, 1), and most images have many pixels at the extremes
/// (background, saturation). A plain logit (<c>alpha = 0</c>, the same map as <see cref="Sigmoid"/>'s inverse) sends those to
/// long tails, <c>logit(1e-6)</c> = -13.8, which the flow must then model. With <c>alpha</c> = <see cref="DefaultAlpha"/> = 0.05, as
/// RealNVP uses for its image data sets, the data fall in [logit(0.05), logit(0.95)] = [-2.94, 2.94]. The log-det accounts for the
/// squeeze, so log-likelihoods stay exact densities of the data in (0, 1). A price: the model's support is the slightly wider
/// interval <c>(-alpha, 1 - alpha) / (1 - 2 alpha)</c>, so a little probability mass falls outside [0, 1]; bits per dimension
/// computed from it remain an honest (slightly pessimistic) figure.</para>
/// <para>The inverse needs data in the closed interval [0, 1] when <c>alpha</c> &gt; 0 (the open one when it is 0).</para>
/// </remarks>
public sealed partial class LogitPreprocessing : ElementwiseBijector
{
    /// <summary>RealNVP's value for image data, 0.05.</summary>
    public const double DefaultAlpha = 0.05;

    private readonly double logRange;

    /// <summary>Creates the map on events of the given shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    /// <param name="alpha">How far the logit's argument is kept from 0 and 1; in [0, 0.5).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is outside [0, 0.5).</exception>
    public LogitPreprocessing(IReadOnlyList<long> eventShape, double alpha = DefaultAlpha) : base(nameof(LogitPreprocessing), CopyShape(eventShape))
    {
        if (!(alpha >= 0 && alpha < 0.5))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"alpha must be in [0, 0.5); got {alpha}.");
        Alpha = alpha;
        logRange = Math.Log(1 - 2 * alpha);
    }

    /// <summary>Creates the map on images <c>[channels, height, width]</c>.</summary>
    /// <param name="channels">Image channels.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="alpha">How far the logit's argument is kept from 0 and 1; in [0, 0.5).</param>
    public LogitPreprocessing(int channels, int height, int width, double alpha = DefaultAlpha)
        : this(ImageShape(channels, height, width), alpha)
    {
    }

    /// <summary>How far the logit's argument is kept from 0 and 1.</summary>
    public double Alpha { get; }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor y)
    {
        using var alpha = Alpha.ToScalar();
        using var range = (1 - 2 * Alpha).ToScalar();
        using var logRangeScalar = logRange.ToScalar();
        var x = y.sigmoid().sub(alpha).div(range);
        return (x, StableMath.LogSigmoid(y).add(StableMath.LogSigmoid(y.neg()), Scalars.One).sub(logRangeScalar));
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor x)
    {
        using var alpha = Alpha.ToScalar();
        using var range = (1 - 2 * Alpha).ToScalar();
        using var logRangeScalar = logRange.ToScalar();
        var p = x.mul(range).add(alpha, Scalars.One);
        var logP = p.log();
        var logOneMinusP = p.neg().log1p();
        return (logP.sub(logOneMinusP), logP.add(logOneMinusP, Scalars.One).neg().add(logRangeScalar, Scalars.One));
    }

    private static long[] ImageShape(int channels, int height, int width)
    {
        Guard.Features(channels, nameof(channels));
        Guard.Features(height, nameof(height));
        Guard.Features(width, nameof(width));
        return new long[] { channels, height, width };
    }
}
