using NormalizingFlows.Internal;
using NormalizingFlows.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>What a plan (<see cref="FusionPlan"/>) holds for: the input's dtype and device, whether gradients are on, whether the
/// kernels are on (<see cref="FusedKernels.On"/>), and the global count of module moves it was made at
/// (<see cref="PlacementCache.Moves"/>: a <c>to(...)</c> of any library module makes every plan stale).</summary>
/// <param name="DType">The input's element type.</param>
/// <param name="Device">The input's device.</param>
/// <param name="Gradients">Whether gradients are on (<c>torch.is_grad_enabled()</c>).</param>
/// <param name="On">Whether the fused kernels are on.</param>
/// <param name="Moves">The count of module moves.</param>
internal readonly record struct PlanKey(ScalarType DType, DeviceType Device, bool Gradients, bool On, long Moves)
{
    /// <summary>The key of a call on <paramref name="x"/> now.</summary>
    public static PlanKey For(Tensor x) => new(x.dtype, x.device_type, torch.is_grad_enabled(), FusedKernels.On, PlacementCache.Moves);

    /// <summary>The key of a call on CPU tensors of <paramref name="dtype"/> with the given gradient mode and switch (tests, and
    /// plans made ahead of a call).</summary>
    public static PlanKey Cpu(ScalarType dtype, bool gradients, bool on = true) => new(dtype, DeviceType.CPU, gradients, on, PlacementCache.Moves);
}
