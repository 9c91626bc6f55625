using System;
using System.Runtime.CompilerServices;

namespace NormalizingFlows.Kernels;

/// <summary>
/// The matrix product of the BLAS that libtorch itself links (Intel MKL, whose Fortran entry points the Linux x64 libtorch_cpu
/// exports as <c>sgemm_</c> and <c>dgemm_</c>), called directly on a fused kernel's buffers: no tensor, no dispatcher and
/// no autograd per product. Where the loaded libtorch exports no such symbol (for instance a build on another BLAS),
/// <see cref="Available"/> is false and the kernels that would need it are not used.
/// </summary>
internal static unsafe class Blas
{
    private static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void> Sgemm;
    private static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void> Dgemm;

    static Blas()
    {
        IntPtr s = LibTorchCpu.Export("sgemm_"), d = LibTorchCpu.Export("dgemm_");
        if (s == IntPtr.Zero || d == IntPtr.Zero) return;
        Sgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void>)s;
        Dgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void>)d;
    }

    /// <summary>Whether the matrix product was found in the loaded libtorch.</summary>
    public static bool Available => Sgemm != null;

    /// <summary>
    /// <c>C = A' B' + beta C</c> on column-major matrices: <c>A'</c> is <paramref name="a"/> (<c>m x k</c>, leading dimension
    /// <paramref name="lda"/>) or its transpose when <paramref name="transposeA"/>, likewise <c>B'</c> (<c>k x n</c>); <c>C</c> is
    /// <c>m x n</c> with leading dimension <paramref name="ldc"/>.
    /// </summary>
    public static void Gemm<T>(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb,
        T beta, Span<T> c, int ldc) where T : unmanaged
    {
        if (!Available) throw new InvalidOperationException("The loaded libtorch exports no BLAS matrix product.");
        if (m == 0 || n == 0) return;
        CheckExtent(a.Length, transposeA ? k : m, transposeA ? m : k, lda, nameof(a));
        CheckExtent(b.Length, transposeB ? n : k, transposeB ? k : n, ldb, nameof(b));
        CheckExtent(c.Length, m, n, ldc, nameof(c));
        byte ta = transposeA ? (byte)'T' : (byte)'N', tb = transposeB ? (byte)'T' : (byte)'N';
        fixed (T* pa = a, pb = b, pc = c)
        {
            if (typeof(T) == typeof(float))
            {
                float one = 1, betaF = Unsafe.As<T, float>(ref beta);
                Sgemm(&ta, &tb, &m, &n, &k, &one, (float*)pa, &lda, (float*)pb, &ldb, &betaF, (float*)pc, &ldc);
            }
            else if (typeof(T) == typeof(double))
            {
                double one = 1, betaD = Unsafe.As<T, double>(ref beta);
                Dgemm(&ta, &tb, &m, &n, &k, &one, (double*)pa, &lda, (double*)pb, &ldb, &betaD, (double*)pc, &ldc);
            }
            else throw new NotSupportedException($"No matrix product for {typeof(T).Name}.");
        }
    }

    private static void CheckExtent(int length, int rows, int columns, int leading, string name)
    {
        if (rows == 0 || columns == 0) return;
        if (leading < Math.Max(1, rows) || (long)leading * (columns - 1) + rows > length)
            throw new ArgumentOutOfRangeException(name, $"A {rows} x {columns} matrix with leading dimension {leading} does not fit in {length} elements.");
    }
}
