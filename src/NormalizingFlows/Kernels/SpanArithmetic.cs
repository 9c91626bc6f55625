using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NormalizingFlows.Kernels;

/// <summary>
/// The elementwise span arithmetic of the evaluation kernels, written here rather than taken from <c>TensorPrimitives</c> for the
/// reason <see cref="VectorExp"/> gives: the runtime's generic vector code starts unoptimised (tier 0) and stays so through a
/// short run, which made a 32-feature MADE's first density pass run these loops several times slower than the products around
/// them; these are compiled optimised from their first call. Each computes what the <c>TensorPrimitives</c> call it replaces
/// computes, to the bit (a product then a sum, not a fused multiply-add).
/// </summary>
internal static class SpanArithmetic
{
    /// <summary><c>accumulator[i] += x[i] a</c> (the same length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd<T>(ReadOnlySpan<T> x, T a, Span<T> accumulator) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (accumulator.Length != x.Length) throw new ArgumentException("Spans of different lengths.", nameof(accumulator));
        ref T from = ref MemoryMarshal.GetReference(x);
        ref T to = ref MemoryMarshal.GetReference(accumulator);
        int i = 0, n = x.Length, lanes = Vector<T>.Count;
        var scalar = new Vector<T>(a);
        for (; i <= n - lanes; i += lanes)
            (Vector.LoadUnsafe(ref to, (nuint)i) + Vector.LoadUnsafe(ref from, (nuint)i) * scalar).StoreUnsafe(ref to, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref to, i) += Unsafe.Add(ref from, i) * a;
    }

    /// <summary>The bounded log-scale <c>s = c tanh(u / c)</c> of every element: <c>tanh(u / c)</c> into <paramref name="tanh"/>
    /// (<see cref="VectorTanh"/>, a tail padded to a whole vector) and <c>s</c> into <paramref name="scale"/> (all the same
    /// length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoundedLogScale<T>(ReadOnlySpan<T> u, T bound, Span<T> tanh, Span<T> scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (tanh.Length != u.Length || scale.Length != u.Length) throw new ArgumentException("Spans of different lengths.", nameof(scale));
        int width = Vector<T>.Count, r = 0, n = u.Length;
        var c = new Vector<T>(bound);
        for (; r <= n - width; r += width)
        {
            var t = VectorTanh.Tanh(new Vector<T>(u.Slice(r)) / c);
            t.CopyTo(tanh.Slice(r));
            (t * c).CopyTo(scale.Slice(r));
        }
        if (r == n) return;
        Span<T> lanes = stackalloc T[width];
        lanes.Clear();
        u.Slice(r).CopyTo(lanes);
        var tail = VectorTanh.Tanh(new Vector<T>(lanes) / c);
        tail.CopyTo(lanes);
        lanes.Slice(0, n - r).CopyTo(tanh.Slice(r));
        (tail * c).CopyTo(lanes);
        lanes.Slice(0, n - r).CopyTo(scale.Slice(r));
    }
}
