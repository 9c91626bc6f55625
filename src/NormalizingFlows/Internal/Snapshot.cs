using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>Reads a parameter or buffer into one fresh tensor the caller owns, outside autograd (no intermediate aliases left behind).</summary>
internal static class Snapshot
{
    /// <summary>A copy of <paramref name="tensor"/>.</summary>
    public static Tensor Copy(Tensor tensor) => Map(tensor, t => t.clone());

    /// <summary><paramref name="map"/> applied to <paramref name="tensor"/> without gradient tracking; <paramref name="map"/> must make one tensor.</summary>
    public static Tensor Map(Tensor tensor, Func<Tensor, Tensor> map)
    {
        using var noGrad = torch.no_grad();
        return map(tensor);
    }
}
