using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NormalizingFlows.Kernels;

/// <summary>One direction of a fused LU layer (<see cref="FusedLuLinear"/>) as a <see cref="RowStage{T}"/>: the per-row affine map
/// <c>out = A in + c</c>, its matrix formed once per call in double precision and rounded to <typeparamref name="T"/>.</summary>
internal sealed class LuLinearStage<T> : RowStage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] a;
    private readonly T[] c;
    private readonly T logDet;

    /// <summary>The stage of the map <paramref name="map"/> (row-major <c>D x D</c>), <paramref name="offset"/> and the constant
    /// log-det <paramref name="logDet"/>.</summary>
    public LuLinearStage(double[] map, double[] offset, double logDet)
    {
        if (map.Length != offset.Length * offset.Length) throw new ArgumentException($"A {offset.Length}-feature map needs {offset.Length * offset.Length} entries; got {map.Length}.", nameof(map));
        a = new T[map.Length];
        c = new T[offset.Length];
        for (int i = 0; i < map.Length; i++) a[i] = T.CreateChecked(map[i]);
        for (int i = 0; i < c.Length; i++) c[i] = T.CreateChecked(offset[i]);
        this.logDet = T.CreateChecked(logDet);
    }

    /// <summary>The stage of these factors.</summary>
    public LuLinearStage(LuFactors factors) : this(factors.A, factors.C, factors.LogDet) { }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work) =>
        Apply(input, output, logAbsDet, rows);

    /// <summary>The map on <paramref name="rows"/> rows (row-major), the log-det into <paramref name="logAbsDet"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows)
    {
        int d = c.Length;
        if (input.Length < rows * d || output.Length < rows * d || logAbsDet.Length < rows) throw new ArgumentException("Buffers of mismatched sizes.");
        logAbsDet.Slice(0, rows).Fill(logDet);
        ref T from = ref MemoryMarshal.GetReference(input);
        ref T to = ref MemoryMarshal.GetReference(output);
        if (d == 2)
        {
            T a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3], c0 = c[0], c1 = c[1];
            for (int r = 0; r < rows; r++)
            {
                T x0 = Unsafe.Add(ref from, 2 * r), x1 = Unsafe.Add(ref from, 2 * r + 1);
                Unsafe.Add(ref to, 2 * r) = a00 * x0 + a01 * x1 + c0;
                Unsafe.Add(ref to, 2 * r + 1) = a10 * x0 + a11 * x1 + c1;
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            ref T row = ref Unsafe.Add(ref from, r * d);
            for (int i = 0; i < d; i++)
            {
                T sum = c[i];
                for (int k = 0; k < d; k++) sum += a[i * d + k] * Unsafe.Add(ref row, k);
                Unsafe.Add(ref to, r * d + i) = sum;
            }
        }
    }
}
