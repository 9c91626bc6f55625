using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Transforms;

/// <summary>
/// Circular rational-quadratic spline for angles: a monotonic spline with <see cref="Bins"/> bins on <c>[-pi, pi]</c> that fixes both
/// ends and has the same slope at both, so it is a smooth bijection of the circle (no tails).
/// Forward: <c>y = s(x)</c> for <c>x</c> in <c>[-pi, pi]</c>; any other real is read as an angle with whole turns, <c>y = s(x - 2 pi n) + 2 pi n</c>;
/// log-det: <c>log s'(x - 2 pi n)</c>.
/// Inverse: <c>x = s^-1(y - 2 pi n) + 2 pi n</c>; log-det: <c>-log s'(x - 2 pi n)</c>.
/// Rezende, Papamakarios, Racanière et al., "Normalizing Flows on Tori and Spheres" (2020); the spline of Durkan et al. (2019).
/// </summary>
/// <remarks>
/// Parameters per feature, <c>3K</c> in this order: <c>K</c> unnormalised bin widths, <c>K</c> unnormalised bin heights and
/// <c>K</c> unnormalised knot derivatives (knot 0 to <c>K - 1</c>; knot <c>K</c>, at <c>pi</c>, shares knot 0's derivative, which
/// makes the map periodic: <c>s(x + 2 pi) = s(x) + 2 pi</c> with a continuous derivative). Sizes and derivatives are
/// parametrised as in <see cref="RationalQuadraticSpline"/>; all-zero parameters give the identity.
/// </remarks>
public sealed partial class CircularSpline : IElementwiseTransform
{
    private const double TwoPi = 2 * Math.PI;
    private readonly double derivativeShift;

    /// <summary>Creates the spline.</summary>
    /// <param name="bins">Number of bins <c>K</c> (at least 1).</param>
    /// <param name="minBinWidth">Smallest bin width as a fraction of the circle; <c>bins * minBinWidth</c> must be below 1.</param>
    /// <param name="minBinHeight">Smallest bin height as a fraction of the circle; <c>bins * minBinHeight</c> must be below 1.</param>
    /// <param name="minDerivative">Smallest knot derivative, in (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the message names the value).</exception>
    public CircularSpline(int bins = 8, double minBinWidth = RationalQuadraticSpline.DefaultMinBinWidth,
        double minBinHeight = RationalQuadraticSpline.DefaultMinBinHeight, double minDerivative = RationalQuadraticSpline.DefaultMinDerivative)
    {
        SplineParameters.Check(bins, 1, minBinWidth, minBinHeight, minDerivative);
        Bins = bins;
        MinBinWidth = minBinWidth;
        MinBinHeight = minBinHeight;
        MinDerivative = minDerivative;
        derivativeShift = SplineParameters.DerivativeShift(minDerivative);
    }

    /// <summary>Number of bins <c>K</c>.</summary>
    public int Bins { get; }

    /// <summary>Smallest bin width, as a fraction of the circle.</summary>
    public double MinBinWidth { get; }

    /// <summary>Smallest bin height, as a fraction of the circle.</summary>
    public double MinBinHeight { get; }

    /// <summary>Smallest knot derivative.</summary>
    public double MinDerivative { get; }

    /// <inheritdoc />
    /// <remarks><c>3 Bins</c>: widths, heights, knot derivatives.</remarks>
    public int ParametersPerFeature => 3 * Bins;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor parameters) => Apply(x, parameters, inverse: false);

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor parameters) => Apply(y, parameters, inverse: true);

    private (Tensor Output, Tensor LogAbsDet) Apply(Tensor input, Tensor parameters, bool inverse)
    {
        SplineParameters.CheckShape(input, parameters, ParametersPerFeature);
        var widths = SplineParameters.Sizes(parameters.narrow(-1, 0, Bins), MinBinWidth);
        var heights = SplineParameters.Sizes(parameters.narrow(-1, Bins, Bins), MinBinHeight);
        var knots = SplineParameters.Derivatives(parameters.narrow(-1, 2 * Bins, Bins), MinDerivative, derivativeShift);
        var derivatives = torch.cat(new[] { knots, knots.narrow(-1, 0, 1) }, -1);
        // Whole turns are split off (no gradient through floor), so the spline only ever sees [-pi, pi].
        var turns = input.detach().add(Scalars.Of(Math.PI), Scalars.One).div(Scalars.Of(TwoPi)).floor().mul(Scalars.Of(TwoPi));
        var angle = input.sub(turns).clamp(Scalars.Of(-Math.PI), Scalars.Of(Math.PI));
        var (output, logAbsDet) = inverse
            ? RationalQuadratic.Inverse(angle, widths, heights, derivatives, -Math.PI, Math.PI)
            : RationalQuadratic.Forward(angle, widths, heights, derivatives, -Math.PI, Math.PI);
        return (output.add(turns, Scalars.One), logAbsDet);
    }
}
