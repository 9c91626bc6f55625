using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Transforms;

/// <summary>
/// Elementwise affine map with parameters <c>(shift, logScale)</c> per feature (in that order).
/// Forward: <c>y = x * exp(logScale) + shift</c>; log-det: <c>logScale</c>.
/// Inverse: <c>x = (y - shift) * exp(-logScale)</c>; log-det: <c>-logScale</c>.
/// Dinh et al., "Density estimation using Real NVP" (2017).
/// </summary>
public sealed class AffineTransform : IElementwiseTransform
{
    /// <summary>The shared instance (the transform holds no state).</summary>
    public static AffineTransform Instance { get; } = new();

    /// <inheritdoc />
    public int ParametersPerFeature => 2;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor parameters)
    {
        var shift = parameters.select(-1, 0);
        var logScale = parameters.select(-1, 1);
        return (torch.addcmul(shift, x, logScale.exp(), 1.0), logScale.alias());
    }

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor parameters)
    {
        var shift = parameters.select(-1, 0);
        var logScale = parameters.select(-1, 1);
        return (y.sub(shift).mul(logScale.neg().exp()), logScale.neg());
    }
}
