using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Transforms;

/// <summary>
/// Elementwise shift with one parameter per feature: volume-preserving.
/// Forward: <c>y = x + shift</c>; log-det: <c>0</c>.
/// Inverse: <c>x = y - shift</c>; log-det: <c>0</c>.
/// The additive coupling law of Dinh et al., "NICE: Non-linear independent components estimation" (2015).
/// </summary>
public sealed partial class AdditiveTransform : IElementwiseTransform
{
    /// <summary>The shared instance (the transform holds no state).</summary>
    public static AdditiveTransform Instance { get; } = new();

    /// <inheritdoc />
    public int ParametersPerFeature => 1;

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor parameters) =>
        (x.add(parameters.select(-1, 0), Scalars.One), torch.zeros_like(x));

    /// <inheritdoc />
    public (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor parameters) =>
        (y.sub(parameters.select(-1, 0)), torch.zeros_like(y));
}
