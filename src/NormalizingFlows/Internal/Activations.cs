using System;
using NormalizingFlows.Conditioners;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>Applies an <see cref="Activation"/>.</summary>
internal static class Activations
{
    public static Tensor Apply(Activation activation, Tensor x) => activation switch
    {
        Activation.Relu => nn.functional.relu(x),
        Activation.Tanh => x.tanh(),
        Activation.LeakyRelu => nn.functional.leaky_relu(x, 0.01),
        Activation.Elu => nn.functional.elu(x, 1.0),
        Activation.Silu => nn.functional.silu(x),
        Activation.Gelu => nn.functional.gelu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, $"Unknown activation {activation}."),
    };
}
