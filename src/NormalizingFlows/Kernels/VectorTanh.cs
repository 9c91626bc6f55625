using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NormalizingFlows.Kernels;

/// <summary>
/// <c>tanh</c> for the kernels, written here rather than taken from <c>TensorPrimitives.Tanh</c> for the reason
/// <see cref="VectorExp"/> gives: the runtime's generic vector code starts unoptimised and, measured here, stayed so through a
/// whole short run (a one-shot evaluation, a command-line call), several times slower than libtorch; this is compiled optimised
/// from its first call. It also returns exactly 0 at 0 (<c>TensorPrimitives.Tanh</c> gives -5.96e-8 in float32 in System.Numerics.Tensors 10).
/// <para>
/// Method: <c>tanh(a) = sign(a) (1 - e) / (1 + e)</c> with <c>e = exp(-2 |a|)</c> (<see cref="VectorExp"/>), and <c>a</c> itself
/// where <c>|a|</c> is so small that <c>tanh(a)</c> rounds to it. The error is a few units in the last place of 1, absolutely
/// (relatively larger for small <c>|a|</c>, as <c>1 - e</c> cancels), which is what its uses need: a bounded log-scale
/// <c>c tanh(u / c)</c> and an activation. <c>+-1</c> at <c>+-inf</c>, NaN for NaN. Every element goes through the same lanes
/// (a tail is padded to a whole vector), so a result does not depend on where its element sits.
/// </para>
/// </summary>
internal static class VectorTanh
{
    /// <summary><c>tanh</c> of every lane, float32 or float64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Tanh<T>(Vector<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var magnitude = Vector.Abs(a);
        var e = VectorExp.Exp(magnitude * Constants<T>.MinusTwo);
        var t = (Vector<T>.One - e) / (Vector<T>.One + e);
        t = Vector.ConditionalSelect(Vector.LessThan(a, Vector<T>.Zero), -t, t);
        t = Vector.ConditionalSelect(Vector.LessThan(magnitude, Constants<T>.SmallArgument), a, t);
        // A NaN compares false everywhere and would leave the selects as a number: keep it NaN.
        return Vector.ConditionalSelect(Vector.Equals(a, a), t, a);
    }

    /// <summary><c>tanh</c> of every element of <paramref name="x"/> into <paramref name="y"/> (the same length; they may be the
    /// same span).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length < x.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(y));
        int width = Vector<T>.Count, r = 0;
        for (; r <= x.Length - width; r += width) Tanh(new Vector<T>(x.Slice(r))).CopyTo(y.Slice(r));
        if (r == x.Length) return;
        Span<T> lanes = stackalloc T[width];
        lanes.Clear();
        x.Slice(r).CopyTo(lanes);
        Tanh(new Vector<T>(lanes)).CopyTo(lanes);
        lanes.Slice(0, x.Length - r).CopyTo(y.Slice(r));
    }

    /// <summary>The constants of <see cref="Tanh{T}(Vector{T})"/>, made once per element type: made in the loop, they were two
    /// calls per vector into generic helpers that the runtime left unoptimised (a perf profile of a one-shot evaluation showed
    /// <c>Single.CreateChecked</c> running as tier-0 code).</summary>
    private static class Constants<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>-2 in every lane.</summary>
        public static readonly Vector<T> MinusTwo = new(T.CreateChecked(-2));

        /// <summary>Below this magnitude <c>tanh(a) = a - a^3 / 3 + ...</c> rounds to <c>a</c> (<c>a^2 / 3</c> under half a unit
        /// in the last place): <c>2^-12</c> in float32, <c>2^-27</c> in float64.</summary>
        public static readonly Vector<T> SmallArgument = new(T.CreateChecked(typeof(T) == typeof(float) ? 1.0 / 4096 : 1.0 / 134217728));
    }
}
