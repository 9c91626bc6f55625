using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NormalizingFlows.Kernels;

/// <summary>
/// <c>exp</c> of every lane of a <see cref="Vector{T}"/>, written here rather than taken from <see cref="Vector.Exp(Vector{float})"/>
/// because the runtime's version is a generic method of the core library that starts as unoptimised code and is recompiled
/// only after some thirty calls and a quiet spell of the compiler: where the kernels first meet it in an evaluation (a flow
/// trained through libtorch's operations), the first 100 000-point log-prob ran about 1.5x the time of the next. This one is
/// compiled optimised from its first call, as the kernels are.
/// <para>
/// Method: <c>x = n ln 2 + r</c> with <c>n</c> the nearest integer to <c>x / ln 2</c> and <c>|r| &lt;= ln 2 / 2</c> (ln 2 in two
/// parts, so that <c>r</c> is exact to the last bits), <c>exp(r)</c> by its Taylor polynomial (degree 7 in float32, 13 in
/// float64: the remainder is below a tenth of a unit in the last place) and <c>2^n</c> built from the exponent bits in two
/// halves, so that results near overflow and in the subnormal range come out right. Within about one unit in the last place
/// of the exact value, exactly 1 at 0, <c>+inf</c> above the largest finite result, 0 below the smallest, NaN for NaN.
/// </para>
/// </summary>
internal static class VectorExp
{
    private const double Log2E = 1.4426950408889634;

    // ln 2 = Ln2High + Ln2Low, the high part with trailing zero bits so that n * Ln2High is exact for the n that occur.
    private const float Ln2HighSingle = 0.693145752f;
    private const float Ln2LowSingle = 1.42860677e-6f;
    private const double Ln2HighDouble = 0.693147180369123816490;
    private const double Ln2LowDouble = 1.90821492927058770002e-10;

    /// <summary><c>exp</c> of every lane, float32 or float64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Exp<T>(Vector<T> v)
    {
        if (typeof(T) == typeof(float)) return Vector.As<float, T>(Exp(Vector.As<T, float>(v)));
        if (typeof(T) == typeof(double)) return Vector.As<double, T>(Exp(Vector.As<T, double>(v)));
        throw new NotSupportedException($"No vector exp for {typeof(T).Name}.");
    }

    /// <summary><c>exp</c> of every element of <paramref name="x"/> into <paramref name="y"/> (the same length; they may be the
    /// same span). Every element goes through the same lanes (a tail is padded to a whole vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Exp<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        if (y.Length < x.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(y));
        int width = Vector<T>.Count, r = 0;
        for (; r <= x.Length - width; r += width) Exp(new Vector<T>(x.Slice(r))).CopyTo(y.Slice(r));
        if (r == x.Length) return;
        Span<T> lanes = stackalloc T[width];
        lanes.Clear();
        x.Slice(r).CopyTo(lanes);
        Exp(new Vector<T>(lanes)).CopyTo(lanes);
        lanes.Slice(0, x.Length - r).CopyTo(y.Slice(r));
    }

    /// <summary><c>exp</c> of every float32 lane; inlined into the kernels' loops (a call per vector kept one vector's chain of
    /// dependent multiply-adds in flight at a time: 0.85 against 0.66 ns per float32 element).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static Vector<float> Exp(Vector<float> x)
    {
        // Beyond [-104, 89] the result is 0 or +inf whatever the exact value; clamping keeps n within the halves' range.
        var clamped = Vector.Min(Vector.Max(x, new Vector<float>(-104f)), new Vector<float>(89f));
        var n = Vector.Round(clamped * new Vector<float>((float)Log2E));
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2HighSingle), clamped);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2LowSingle), r);
        var p = new Vector<float>(1f / 5040f);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 720f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 120f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 24f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 6f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(0.5f));
        p = Vector.FusedMultiplyAdd(p, r, Vector<float>.One);
        p = Vector.FusedMultiplyAdd(p, r, Vector<float>.One);
        // 2^n as 2^h 2^(n - h), h = floor(n / 2): both factors are normal numbers for n in [-150, 129].
        var whole = Vector.ConvertToInt32(n);
        var half = Vector.ShiftRightArithmetic(whole, 1);
        var first = Vector.As<int, float>(Vector.ShiftLeft(half + new Vector<int>(127), 23));
        var second = Vector.As<int, float>(Vector.ShiftLeft(whole - half + new Vector<int>(127), 23));
        var result = p * first * second;
        result = Vector.ConditionalSelect(Vector.LessThan(x, new Vector<float>(-104f)), Vector<float>.Zero, result);
        return Vector.ConditionalSelect(Vector.Equals(x, x), result, x);
    }

    /// <summary><c>exp</c> of every float64 lane; inlined into the kernels' loops, as the float32 one is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static Vector<double> Exp(Vector<double> x)
    {
        var clamped = Vector.Min(Vector.Max(x, new Vector<double>(-746.0)), new Vector<double>(710.0));
        var n = Vector.Round(clamped * new Vector<double>(Log2E));
        var r = Vector.FusedMultiplyAdd(n, new Vector<double>(-Ln2HighDouble), clamped);
        r = Vector.FusedMultiplyAdd(n, new Vector<double>(-Ln2LowDouble), r);
        // Taylor coefficients 1/k! from k = 13 down to 2, then 1 + r p.
        var p = new Vector<double>(1.0 / 6227020800.0);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 479001600.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 39916800.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 3628800.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 362880.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 40320.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 5040.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 720.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 120.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 24.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 6.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(0.5));
        p = Vector.FusedMultiplyAdd(p, r, Vector<double>.One);
        p = Vector.FusedMultiplyAdd(p, r, Vector<double>.One);
        var whole = Vector.ConvertToInt64(n);
        var half = Vector.ShiftRightArithmetic(whole, 1);
        var first = Vector.As<long, double>(Vector.ShiftLeft(half + new Vector<long>(1023), 52));
        var second = Vector.As<long, double>(Vector.ShiftLeft(whole - half + new Vector<long>(1023), 52));
        var result = p * first * second;
        result = Vector.ConditionalSelect(Vector.LessThan(x, new Vector<double>(-746.0)), Vector<double>.Zero, result);
        return Vector.ConditionalSelect(Vector.Equals(x, x), result, x);
    }
}
