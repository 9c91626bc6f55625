using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>Small pieces shared by the targets' samplers and densities.</summary>
internal static class Sampling
{
    /// <summary><c>log(2 pi)</c>.</summary>
    public static readonly double Log2Pi = Math.Log(2 * Math.PI);

    /// <summary>Element type of samples when the caller names none.</summary>
    public const ScalarType DefaultType = ScalarType.Float32;

    /// <summary><paramref name="count"/> indices drawn uniformly from <c>0 .. classes - 1</c> (int64).</summary>
    public static Tensor UniformIndex(long count, long classes, Generator? generator, Device? device) =>
        Draw.Integers(0, classes, new[] { count }, device, generator);

    /// <summary>Stacks two columns into rows <c>[count, 2]</c>.</summary>
    public static Tensor Rows(Tensor first, Tensor second) => torch.stack(new[] { first, second }, 1);
}
