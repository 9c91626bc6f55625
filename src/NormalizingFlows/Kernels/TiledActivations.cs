using System;
using System.Numerics;

namespace NormalizingFlows.Kernels;

/// <summary>
/// What one network of a tiled coupling computed for every row of a block, kept for its backward pass (training): each
/// layer's input row by row (<c>[rows][stride]</c>: the pass-through features, then every hidden layer after its activation),
/// over whole tiles (the rows beyond the block's are zero in the first and carry the activation of the bias in the others).
/// The buffers are rented from the shared array pool and returned on <see cref="Dispose"/>.
/// </summary>
internal sealed class TiledActivations<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rents the buffers for the layers' inputs of <paramref name="rows"/> rows (padded to whole tiles), each
    /// <paramref name="strides"/><c>[l]</c> wide.</summary>
    public TiledActivations(int rows, int[] strides)
    {
        Rows = (rows + TiledNetwork<T>.TileRows - 1) / TiledNetwork<T>.TileRows * TiledNetwork<T>.TileRows;
        Strides = strides;
        Inputs = new T[strides.Length][];
        for (int l = 0; l < strides.Length; l++) Inputs[l] = CouplingWork<T>.Rent(Rows * strides[l]);
    }

    /// <summary>The rows kept: the block's, rounded up to whole tiles.</summary>
    public int Rows { get; }

    /// <summary>Per layer, the row stride of its input: the pass-through width for the first, the previous layer's padded width
    /// for the others.</summary>
    public int[] Strides { get; }

    /// <summary>Per layer, its input row by row (possibly longer than <c>Rows * Strides[l]</c>).</summary>
    public T[][] Inputs { get; }

    /// <summary>Returns the buffers to the pool; the activations must not be read afterwards.</summary>
    public void Dispose()
    {
        foreach (var buffer in Inputs) CouplingWork<T>.Return(buffer);
    }
}
