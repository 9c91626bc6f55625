using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NormalizingFlows.Kernels;

/// <summary>
/// The log-density of a standard normal base, <c>-sum_j z_j^2 / 2 - D log(2 pi) / 2</c>, as the last <see cref="RowStage{T}"/> of
/// a flow's density chain (<see cref="FusedChain.TryLogProb"/>): each block's base point is scored while it is in the cache,
/// so the flow's log-density needs neither the base points of the whole batch nor a pass of libtorch's operations over them.
/// Its "log-det" is the log-density; its output is its input.
/// </summary>
internal sealed class StandardNormalStage<T> : RowStage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int features;
    private readonly T normalizer;
    private static readonly T MinusHalf = T.CreateChecked(-0.5);

    /// <summary>The stage of a standard normal on <paramref name="features"/> values whose log normaliser is
    /// <paramref name="logNormalizer"/> (<c>D log(2 pi) / 2</c>, as the distribution computes it).</summary>
    public StandardNormalStage(int features, double logNormalizer)
    {
        this.features = features;
        normalizer = T.CreateChecked(logNormalizer);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<T> input, Span<T> output, Span<T> logAbsDet, int rows, RowStageWork<T> work)
    {
        int d = features, lanes = Vector<T>.Count;
        if (input.Length < rows * d || output.Length < rows * d || logAbsDet.Length < rows) throw new ArgumentException("Buffers of mismatched sizes.");
        input.Slice(0, rows * d).CopyTo(output);
        ref T x = ref MemoryMarshal.GetReference(input);
        for (int r = 0; r < rows; r++)
        {
            ref T row = ref Unsafe.Add(ref x, r * d);
            T sum = T.Zero;
            int j = 0;
            if (d >= lanes)
            {
                var squares = Vector<T>.Zero;
                for (; j <= d - lanes; j += lanes)
                {
                    var v = Vector.LoadUnsafe(ref row, (nuint)j);
                    squares += v * v;
                }
                sum = Vector.Sum(squares);
            }
            for (; j < d; j++) sum += Unsafe.Add(ref row, j) * Unsafe.Add(ref row, j);
            logAbsDet[r] = MinusHalf * sum - normalizer;
        }
    }
}
