using System;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>Where a tensor's elements live (the tensor or its owner kept alive by the caller while they are used), read on the
/// calling thread; empty for none.</summary>
internal readonly unsafe record struct NativeSpan(IntPtr Address, int Length)
{
    /// <summary>The elements of <paramref name="tensor"/> (contiguous, on the CPU, of element type <typeparamref name="T"/>), or
    /// none for null.</summary>
    public static NativeSpan Of<T>(Tensor? tensor) where T : unmanaged
    {
        if (tensor is null) return default;
        var span = TensorMemory.Span<T>(tensor);
        fixed (T* address = span) return new NativeSpan((IntPtr)address, span.Length);
    }

    /// <summary><see cref="Of{T}"/> in the tensor's own element type (float or double).</summary>
    public static NativeSpan Of(Tensor tensor) => tensor.dtype == ScalarType.Float32 ? Of<float>(tensor) : Of<double>(tensor);

    /// <summary>The elements as <typeparamref name="T"/> (the element type they were read as).</summary>
    public Span<T> As<T>() where T : unmanaged => Length == 0 ? Span<T>.Empty : new Span<T>((void*)Address, Length);
}
