using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Transforms;

/// <summary>
/// Elementwise affine map with parameters <c>(shift, u)</c> per feature (in that order); the log-scale is
/// <c>s = map(u)</c> for the chosen <see cref="Transforms.ScaleMap"/> (by default <c>s = u</c>).
/// Forward: <c>y = x * exp(s) + shift</c>; log-det: <c>s</c>.
/// Inverse: <c>x = (y - shift) * exp(-s)</c>; log-det: <c>-s</c>.
/// Dinh et al., "Density estimation using Real NVP" (2017); the sigmoid map is Glow's (Kingma and Dhariwal, 2018).
/// </summary>
/// <remarks>
/// <see cref="Instance"/> uses <see cref="ScaleMap.Exp"/>. With <see cref="ScaleMap.Exp"/> and <see cref="ScaleMap.SoftClamp"/>
/// all-zero parameters give the identity; with <see cref="ScaleMap.Sigmoid"/> they give the scale <c>sigmoid(2)</c>, about 0.88,
/// so a zero-initialised coupling then starts as a slight contraction, as in Glow. Glow shifts before it scales
/// (<c>(x + shift) * scale</c>); here the shift comes after, which spans the same family of maps.
/// </remarks>
public sealed partial class AffineTransform : IElementwiseTransform, Kernels.IFusableTransform
{
    /// <summary>The default bound <c>c</c> of <see cref="ScaleMap.SoftClamp"/>: log-scales stay within <c>+-2</c>, i.e. scales within about [0.14, 7.4].</summary>
    public const double DefaultBound = 2.0;

    /// <summary>The shared instance with the exponential scale map (the transform holds no state).</summary>
    public static AffineTransform Instance { get; } = new();

    /// <summary>Creates an affine transform.</summary>
    /// <param name="scaleMap">How the raw parameter becomes the log-scale.</param>
    /// <param name="bound">The bound <c>c</c> of <see cref="ScaleMap.SoftClamp"/> (positive, finite); ignored by the other maps.</param>
    /// <exception cref="ArgumentOutOfRangeException">Unknown map, or a bound that is not positive and finite.</exception>
    public AffineTransform(ScaleMap scaleMap = ScaleMap.Exp, double bound = DefaultBound)
    {
        if (!Enum.IsDefined(scaleMap)) throw new ArgumentOutOfRangeException(nameof(scaleMap), scaleMap, $"Unknown scale map {scaleMap}.");
        Guard.Positive(bound, nameof(bound));
        ScaleMap = scaleMap;
        Bound = bound;
    }

    /// <summary>How the raw parameter becomes the log-scale.</summary>
    public ScaleMap ScaleMap { get; }

    /// <summary>The bound <c>c</c> of <see cref="ScaleMap.SoftClamp"/>.</summary>
    public double Bound { get; }

    /// <inheritdoc />
    public int ParametersPerFeature => 2;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor parameters)
    {
        var shift = parameters.select(-1, 0);
        var logScale = LogScale(parameters.select(-1, 1));
        return (torch.addcmul(shift, x, logScale.exp(), Scalars.Of(1.0)), logScale);
    }

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor parameters)
    {
        var shift = parameters.select(-1, 0);
        var logScale = LogScale(parameters.select(-1, 1));
        return (y.sub(shift).mul(logScale.neg().exp()), logScale.neg());
    }

    private Tensor LogScale(Tensor raw)
    {
        switch (ScaleMap)
        {
            case ScaleMap.Sigmoid:
                return StableMath.LogSigmoid(raw.add(Scalars.Of(2.0), Scalars.One));
            case ScaleMap.SoftClamp:
            {
                using var bound = Bound.ToScalar();
                return raw.div(bound).tanh().mul(bound);
            }
            default:
                return raw.alias();
        }
    }

    /// <inheritdoc />
    Kernels.TransformDescription? Kernels.IFusableTransform.DescribeForKernels() => ScaleMap switch
    {
        ScaleMap.Exp => new(Kernels.LogScaleKind.Raw, 0.0, static () => Array.Empty<Tensor>()),
        ScaleMap.SoftClamp => new(Kernels.LogScaleKind.FixedBound, Bound, static () => Array.Empty<Tensor>()),
        _ => null,
    };
}
