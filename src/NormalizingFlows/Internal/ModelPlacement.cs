using System.Globalization;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>The element type and device of a model's tensors (its first floating-point parameter, else its first floating-point
/// buffer): what every tensor handed to the model's public entry points must match.</summary>
internal readonly record struct ModelPlacement(ScalarType DType, DeviceType DeviceType, int DeviceIndex)
{
    /// <summary>The placement of <paramref name="tensor"/>.</summary>
    public static ModelPlacement Of(Tensor tensor) => new(tensor.dtype, tensor.device_type, (int)tensor.device_index);

    /// <summary>Whether <paramref name="tensor"/> has this dtype and lives on this device (three reads of the tensor's header, no
    /// tensor operation).</summary>
    public bool Holds(Tensor tensor) =>
        tensor.dtype == DType && tensor.device_type == DeviceType && tensor.device_index == DeviceIndex;

    /// <summary>"Float32 on cpu", "Float16 on cuda:0".</summary>
    public override string ToString() => $"{DType} on {DeviceName(DeviceType, DeviceIndex)}";

    /// <summary>A device as TorchSharp and PyTorch write it: <c>cpu</c>, <c>cuda:0</c>.</summary>
    public static string DeviceName(DeviceType type, int index) =>
        type.ToString().ToLowerInvariant() + (index >= 0 && type != DeviceType.CPU ? ":" + index.ToString(CultureInfo.InvariantCulture) : "");

    /// <summary>Reads the placement of a module now: its first floating-point parameter, else its first floating-point buffer;
    /// null when it holds neither (a layer without parameters, which takes any floating-point dtype on any device).</summary>
    public static ModelPlacement? Read(nn.Module module)
    {
        foreach (var parameter in module.parameters())
            if (parameter.is_floating_point()) return Of(parameter);
        foreach (var buffer in module.buffers())
            if (buffer.is_floating_point()) return Of(buffer);
        return null;
    }
}

/// <summary>
/// One module's <see cref="ModelPlacement"/>, read once and kept until a <c>to(...)</c> reaches any of the library's modules
/// (<see cref="Bijector"/>, <see cref="Distribution"/>, <see cref="Conditioner"/> and <see cref="ImageConditioner"/> override
/// TorchSharp's <c>_to</c> methods to call <see cref="Invalidate"/>). No parameter object is kept (<c>to</c> replaces them): only
/// the dtype and device, and the global count of moves they were read at.
/// </summary>
/// <remarks>A move that bypasses the library's modules (calling <c>to</c> on a plain TorchSharp layer nested inside one) is not
/// seen; the checks therefore re-read the placement before reporting a mismatch, so a stale entry never rejects a right
/// argument.</remarks>
internal sealed class PlacementCache
{
    private static long moves;
    private Entry? entry;

    /// <summary>Marks every cached placement stale: called after any library module's parameters were moved or converted.</summary>
    public static void Invalidate() => Interlocked.Increment(ref moves);

    /// <summary>The global count of moves so far: what else is cached per placement (the fused-kernel plans) keys on.</summary>
    public static long Moves => Volatile.Read(ref moves);

    /// <summary>The module's placement, read again only when a move happened since the last read.</summary>
    public ModelPlacement? Get(nn.Module module)
    {
        long now = Volatile.Read(ref moves);
        var cached = Volatile.Read(ref entry);
        if (cached is not null && cached.Moves == now) return cached.Placement;
        return Refresh(module, now);
    }

    /// <summary>Reads the module's placement now and keeps it.</summary>
    public ModelPlacement? Refresh(nn.Module module) => Refresh(module, Volatile.Read(ref moves));

    private ModelPlacement? Refresh(nn.Module module, long now)
    {
        var placement = ModelPlacement.Read(module);
        Volatile.Write(ref entry, new Entry(now, placement));
        return placement;
    }

    private sealed record Entry(long Moves, ModelPlacement? Placement);
}
