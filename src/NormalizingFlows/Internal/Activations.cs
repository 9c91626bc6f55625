using System;
using NormalizingFlows.Conditioners;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>Applies an <see cref="Activation"/>.</summary>
internal static class Activations
{
    /// <summary>The slope of <see cref="Activation.LeakyRelu"/> for non-positive inputs: the one value every path (libtorch's
    /// operations, the fused kernels, residual blocks) uses.</summary>
    public const double LeakySlope = 0.01;

    /// <summary>As <see cref="Apply"/>, in place when that is safe for autograd and <paramref name="x"/> is a fresh result
    /// nobody else holds (ReLU and tanh differentiate through their output, so overwriting their input costs nothing):
    /// one allocation and one pass over memory fewer.</summary>
    public static Tensor ApplyToFresh(Activation activation, Tensor x) => activation switch
    {
        Activation.Relu => x.relu_(),
        Activation.Tanh => x.tanh_(),
        _ => Apply(activation, x),
    };

    public static Tensor Apply(Activation activation, Tensor x) => activation switch
    {
        Activation.Relu => nn.functional.relu(x),
        Activation.Tanh => x.tanh(),
        Activation.LeakyRelu => StableMath.LeakyRelu(x, Scalars.Of(LeakySlope)),
        Activation.Elu => StableMath.Elu(x),
        Activation.Silu => nn.functional.silu(x),
        Activation.Gelu => nn.functional.gelu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, $"Unknown activation {activation}."),
    };
}
