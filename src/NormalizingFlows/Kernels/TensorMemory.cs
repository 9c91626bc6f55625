using System;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>Direct access to the elements of a contiguous CPU tensor, for the fused kernels: the kernels read and write libtorch's
/// buffers in place, with no copy and no native call per element.</summary>
internal static class TensorMemory
{
    /// <summary>Whether <paramref name="x"/> can be read as a span: on the CPU, float32 or float64, contiguous, and small enough for
    /// a span's length.</summary>
    public static bool IsReadable(Tensor x) =>
        x.device_type == DeviceType.CPU && (x.dtype == ScalarType.Float32 || x.dtype == ScalarType.Float64) && x.numel() < int.MaxValue;

    /// <summary>Whether <paramref name="x"/> is a CPU tensor of element type <paramref name="dtype"/>.</summary>
    public static bool Holds(Tensor x, ScalarType dtype) => x.device_type == DeviceType.CPU && x.dtype == dtype;

    /// <summary>Whether every one of <paramref name="tensors"/> is a CPU tensor of element type <paramref name="dtype"/>.</summary>
    public static bool AllHold(Tensor[] tensors, ScalarType dtype)
    {
        foreach (var t in tensors)
            if (!Holds(t, dtype)) return false;
        return true;
    }

    /// <summary>The element type of <typeparamref name="T"/>: float32 for float, float64 for double.</summary>
    public static ScalarType TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? ScalarType.Float32
        : typeof(T) == typeof(double) ? ScalarType.Float64
        : throw new NotSupportedException($"The fused kernels take float or double, not {typeof(T).Name}.");

    /// <summary>An autograd node's incoming gradient, contiguous, or null where autograd passed none (an output that did not
    /// reach the loss).</summary>
    public static Tensor? Gradient(Tensor? gradient) => gradient is null || gradient.IsInvalid ? null : gradient.contiguous();

    /// <summary>The elements of <paramref name="x"/> (contiguous, on the CPU, of element type <typeparamref name="T"/>), in
    /// row-major order. Valid while the caller keeps <paramref name="x"/> alive.</summary>
    public static unsafe Span<T> Span<T>(Tensor x) where T : unmanaged
    {
        // A CUDA tensor's address is device memory: reading it here would crash the process, not throw.
        if (x.device_type != DeviceType.CPU) throw new InvalidOperationException($"A fused kernel was given a tensor on {x.device}; the kernels run on the CPU only.");
        if (!x.is_contiguous()) throw new InvalidOperationException("A fused kernel was given a non-contiguous tensor.");
        int length = checked((int)x.numel());
        if (length == 0) return System.Span<T>.Empty;
        return new Span<T>((void*)THSTensor_data(x.Handle), length);
    }

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr tensor);
}
