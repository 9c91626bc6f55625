using System;
using NormalizingFlows.Internal;
using NormalizingFlows.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Transforms;

/// <summary>
/// Monotonic rational-quadratic spline with <see cref="Bins"/> bins on <c>[-Bound, Bound]</c> and identity tails outside.
/// Forward: <c>y = s(x)</c> inside (the ratio of two quadratics in each bin), <c>y = x</c> outside; log-det: <c>log s'(x)</c> inside, 0 outside.
/// Inverse: <c>x = s^-1(y)</c> by the stable root of each bin's quadratic inside, <c>x = y</c> outside; log-det: <c>-log s'(x)</c> inside, 0 outside.
/// Durkan, Bekasov, Murray and Papamakarios, "Neural Spline Flows" (2019).
/// </summary>
/// <remarks>
/// <para>Parameters per feature, <c>3K - 1</c> in this order: <c>K</c> unnormalised bin widths, <c>K</c> unnormalised bin
/// heights, <c>K - 1</c> unnormalised interior knot derivatives. Widths are <c>minBinWidth + (1 - K minBinWidth) softmax(.)</c>
/// times <c>2 Bound</c> (heights alike); a derivative is <c>minDerivative + softplus(u + c)</c> with <c>c</c> chosen so that
/// <c>u = 0</c> gives 1. The two boundary derivatives are 1, so the spline joins the identity tails smoothly. All-zero
/// parameters give equal bins and unit slopes: the identity.</para>
/// <para>Inputs exactly on, just inside or just beyond <c>±Bound</c>, and inputs of any magnitude, give finite values,
/// log-dets and gradients in both directions: the spline is evaluated on inputs clamped to the interval and the tails are
/// chosen afterwards, and the outer knots are exactly <c>±Bound</c> (no cumulative-sum round-off at the ends).</para>
/// <para>On CPU float32/float64 tensors, with <see cref="Runtime.FusedKernels"/> on, each call runs as one fused kernel (each
/// element in double precision, one autograd node); elsewhere as libtorch operations. Both give the same values and gradients
/// (1e-12 in float64 where the map is well conditioned).</para>
/// <para>Pick <c>Bound</c> to cover the data the spline sees; the neural-spline presets put an <see cref="Bijectors.ActNorm"/>
/// at the data end so that the splines see standardised data.</para>
/// </remarks>
public sealed partial class RationalQuadraticSpline : IElementwiseTransform
{
    /// <summary>Default smallest bin width, as a fraction of the interval.</summary>
    public const double DefaultMinBinWidth = 1e-3;

    /// <summary>Default smallest bin height, as a fraction of the interval.</summary>
    public const double DefaultMinBinHeight = 1e-3;

    /// <summary>Default smallest knot derivative.</summary>
    public const double DefaultMinDerivative = 1e-3;

    private readonly double derivativeShift;
    private readonly FusedSpline.Call forwardCall, inverseCall;

    /// <summary>Creates the spline.</summary>
    /// <param name="bins">Number of bins <c>K</c> (at least 2: with one bin and unit end slopes the spline is always the identity).</param>
    /// <param name="bound">Half-width <c>B</c> of the interval <c>[-B, B]</c> the spline acts on; identity outside.</param>
    /// <param name="minBinWidth">Smallest bin width as a fraction of the interval; <c>bins * minBinWidth</c> must be below 1.</param>
    /// <param name="minBinHeight">Smallest bin height as a fraction of the interval; <c>bins * minBinHeight</c> must be below 1.</param>
    /// <param name="minDerivative">Smallest knot derivative, in (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the message names the value).</exception>
    public RationalQuadraticSpline(int bins = 8, double bound = 3.0, double minBinWidth = DefaultMinBinWidth,
        double minBinHeight = DefaultMinBinHeight, double minDerivative = DefaultMinDerivative)
    {
        SplineParameters.Check(bins, 2, minBinWidth, minBinHeight, minDerivative);
        Guard.Positive(bound, nameof(bound));
        Bins = bins;
        Bound = bound;
        MinBinWidth = minBinWidth;
        MinBinHeight = minBinHeight;
        MinDerivative = minDerivative;
        derivativeShift = SplineParameters.DerivativeShift(minDerivative);
        forwardCall = new FusedSpline.Call(bins, bound, minBinWidth, minBinHeight, minDerivative, derivativeShift, Inverse: false);
        inverseCall = forwardCall with { Inverse = true };
    }

    /// <summary>Number of bins <c>K</c>.</summary>
    public int Bins { get; }

    /// <summary>Half-width <c>B</c> of the interval <c>[-B, B]</c>.</summary>
    public double Bound { get; }

    /// <summary>Smallest bin width, as a fraction of the interval.</summary>
    public double MinBinWidth { get; }

    /// <summary>Smallest bin height, as a fraction of the interval.</summary>
    public double MinBinHeight { get; }

    /// <summary>Smallest knot derivative.</summary>
    public double MinDerivative { get; }

    /// <inheritdoc />
    /// <remarks><c>3 Bins - 1</c>: widths, heights, interior derivatives.</remarks>
    public int ParametersPerFeature => 3 * Bins - 1;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor parameters) => Apply(x, parameters, inverse: false);

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor parameters) => Apply(y, parameters, inverse: true);

    private (Tensor Output, Tensor LogAbsDet) Apply(Tensor input, Tensor parameters, bool inverse)
    {
        SplineParameters.CheckShape(input, parameters, ParametersPerFeature);
        if (FusionPlanner.SplineRunsFused(input, parameters, Bins))
            return FusedSpline.Apply(inverse ? inverseCall : forwardCall, input, parameters);
        var widths = SplineParameters.Sizes(parameters.narrow(-1, 0, Bins), MinBinWidth);
        var heights = SplineParameters.Sizes(parameters.narrow(-1, Bins, Bins), MinBinHeight);
        var interior = SplineParameters.Derivatives(parameters.narrow(-1, 2 * Bins, Bins - 1), MinDerivative, derivativeShift);
        var derivatives = nn.functional.pad(interior, new long[] { 1, 1 }, value: 1.0);
        using var bound = Bound.ToScalar();
        using var minusBound = (-Bound).ToScalar();
        var inside = input.abs().le(bound);
        var clamped = input.clamp(minusBound, bound);
        var (output, logAbsDet) = inverse
            ? RationalQuadratic.Inverse(clamped, widths, heights, derivatives, -Bound, Bound)
            : RationalQuadratic.Forward(clamped, widths, heights, derivatives, -Bound, Bound);
        // The spline saw only clamped (finite) inputs, so masking its log-det by multiplication cannot produce 0 * inf.
        return (torch.where(inside, output, input), logAbsDet.mul(inside));
    }
}
