using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NormalizingFlows.Kernels;

/// <summary>One direction of the fused leaky ReLU (<see cref="FusedLeakyRelu"/>) as a <see cref="RowStage{T}"/>: non-positive
/// elements multiplied by the slope (forward) or divided by it (inverse), the log-det per row the sum of <c>+-log a</c> over
/// them.</summary>
internal sealed class LeakyReluStage<T> : RowStage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] factor;
    private readonly T[] logSlope;
    private readonly int elements;

    /// <summary>The stage of these slopes (one shared, or one per element of the event) on events of
    /// <paramref name="elements"/> values.</summary>
    public LeakyReluStage(double[] slopes, bool inverse, int elements)
    {
        if (slopes.Length != 1 && slopes.Length != elements)
            throw new ArgumentException($"Expected one slope or one per element ({elements}); got {slopes.Length}.", nameof(slopes));
        factor = FusedLeakyRelu.Factors<T>(slopes, inverse);
        logSlope = new T[slopes.Length];
        for (int e = 0; e < slopes.Length; e++) logSlope[e] = T.CreateChecked(inverse ? -Math.Log(slopes[e]) : Math.Log(slopes[e]));
        this.elements = elements;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work) =>
        Apply(input, output, logAbsDet, rows);

    /// <summary>The map on <paramref name="rows"/> events (row-major), the log-det into <paramref name="logAbsDet"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows)
    {
        int n = rows * elements;
        if (input.Length < n || output.Length < n || logAbsDet.Length < rows) throw new ArgumentException("Buffers of mismatched sizes.");
        if (logSlope.Length == 1)
        {
            Scale(input.Slice(0, n), output.Slice(0, n), factor[0]);
            for (int r = 0; r < rows; r++)
            {
                int negatives = 0;
                foreach (var v in input.Slice(r * elements, elements)) negatives += v <= T.Zero ? 1 : 0;
                logAbsDet[r] = T.CreateChecked(negatives) * logSlope[0];
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            int offset = r * elements;
            T sum = T.Zero;
            for (int e = 0; e < elements; e++)
            {
                T v = input[offset + e];
                bool negative = v <= T.Zero;
                output[offset + e] = negative ? v * factor[e] : v;
                if (negative) sum += logSlope[e];
            }
            logAbsDet[r] = sum;
        }
    }

    /// <summary><c>y = f x</c> where <c>x &lt;= 0</c>, else <c>x</c>, a vector at a time.</summary>
    private static void Scale(ReadOnlySpan<T> input, Span<T> output, T factor)
    {
        ref T from = ref MemoryMarshal.GetReference(input);
        ref T to = ref MemoryMarshal.GetReference(output);
        int i = 0, n = input.Length, lanes = Vector<T>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<T>(factor);
            for (; i <= n - lanes; i += lanes)
            {
                var v = Vector.LoadUnsafe(ref from, (nuint)i);
                Vector.ConditionalSelect(Vector.LessThanOrEqual(v, Vector<T>.Zero), v * f, v).StoreUnsafe(ref to, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i) <= T.Zero ? Unsafe.Add(ref from, i) * factor : Unsafe.Add(ref from, i);
    }
}
