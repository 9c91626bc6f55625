using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

/// <summary>
/// A stateless, per-feature invertible map whose parameters come from elsewhere (a conditioner network
/// in a coupling or autoregressive layer). All-zero parameters give the identity.
/// </summary>
/// <remarks>
/// The input has any shape <c>S</c>; the parameters have shape <c>[...S, ParametersPerFeature]</c>.
/// Both methods return the output (shape <c>S</c>) and the log-absolute derivative of each element (shape
/// <c>S</c>); the layer that owns the transform sums it over the event.
/// </remarks>
public interface IElementwiseTransform
{
    /// <summary>Number of parameters each transformed feature needs.</summary>
    int ParametersPerFeature { get; }

    /// <summary>Applies the transform: <c>y = t(x; parameters)</c> and <c>log|dy/dx|</c> elementwise.</summary>
    (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor parameters);

    /// <summary>Inverts the transform: <c>x = t^-1(y; parameters)</c> and <c>log|dx/dy|</c> elementwise.</summary>
    (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor parameters);
}
