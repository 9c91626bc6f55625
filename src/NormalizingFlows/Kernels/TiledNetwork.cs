using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Kernels;

/// <summary>One linear layer of a tiled network: the weight transposed (<c>[in, padded]</c>, row <c>k</c> holding what input
/// <c>k</c> adds to every output) and the bias, both zero beyond <see cref="Out"/> up to <see cref="Padded"/>, a whole number of
/// vectors.</summary>
/// <param name="Weights">The weight transposed, <c>[in, padded]</c>.</param>
/// <param name="Rows">The weight row by row, <c>[out, in rounded up to whole vectors]</c>, zero beyond <c>in</c>: what a narrow layer
/// (<see cref="TiledNetwork{T}.NarrowOutputs"/> outputs or fewer) takes dot products with.</param>
/// <param name="Bias">The bias, <c>[padded]</c>.</param>
/// <param name="In">Inputs.</param>
/// <param name="Out">Outputs.</param>
/// <param name="Padded"><paramref name="Out"/> rounded up to whole vectors: the row stride of the layer's output tile.</param>
internal sealed record TiledLayer<T>(T[] Weights, T[] Rows, T[] Bias, int In, int Out, int Padded)
{
    /// <summary>The layer that multiplies by the weight itself rather than its transpose (<c>G W</c>, the backward pass's input
    /// gradient): <see cref="Rows"/> as its weights, a zero bias; null for the layers of such a transposed layer.</summary>
    public TiledLayer<T>? Transposed { get; init; }
}

/// <summary>
/// A coupling's whole network on tiles of <see cref="TileRows"/> rows, with 512-bit vectors: for each tile,
/// every layer is a register-blocked product (<see cref="TileRows"/> rows by four vectors of outputs held in 24 registers while
/// the inputs stream by) whose bias comes in as the accumulators' start and whose activation follows on the stored tile,
/// a buffer of a few kilobytes that the next layer reads from the first-level cache. Against a BLAS product per layer
/// over a block of rows this saves the packing of both operands, the separate bias-and-activation pass over every hidden
/// layer and the trips of the hidden layers through the second-level cache. Used where the processor has 512-bit vectors and
/// the network's hidden activation is ReLU or leaky ReLU (<see cref="CouplingPlan.Tiled"/>); the BLAS path stays for the rest. Training
/// runs the same products layer by layer over the whole block instead (<see cref="Forward"/>), keeping each layer's input for
/// <see cref="Backward"/>.
/// </summary>
internal static class TiledNetwork<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows per tile: 6 rows by 4 vectors is 24 accumulators, which with the 4 weight vectors and the broadcast input
    /// fits in the 32 vector registers of AVX-512.</summary>
    public const int TileRows = 6;

    /// <summary>Layers with this many outputs or fewer (a coupling's last layer, the shift and log-scale of one or two features)
    /// are dot products of each row with each weight row, rather than a product over a whole vector of mostly padded outputs.</summary>
    public const int NarrowOutputs = 4;

    private static readonly T LeakySlope = T.CreateChecked(Internal.Activations.LeakySlope);

    private static int Lanes => Vector512<T>.Count;

    /// <summary><paramref name="width"/> rounded up to whole vectors: the row stride of a tile of that many units.</summary>
    private static int Padded(int width) => (width + Lanes - 1) / Lanes * Lanes;

    /// <summary><paramref name="weights"/> with every network's layers packed (<see cref="Pack"/>) where the plan runs as register
    /// tiles (<see cref="CouplingPlan.Tiled"/>, decided by <see cref="FusionPlanner.CouplingOperations"/>); else as they are.</summary>
    public static CouplingWeights<T> Packed(CouplingPlan plan, CouplingWeights<T> weights)
    {
        if (!plan.Tiled) return weights;
        var tiles = new TiledLayer<T>[plan.Parts][];
        for (int part = 0; part < plan.Parts; part++) tiles[part] = Pack(plan, weights, part);
        return weights with { Tiles = tiles, SplitOutput = MapsRows(plan) ? PackSplitOutput(plan, weights) : null };
    }

    /// <summary>Whether evaluation maps the rows on the tiles (<see cref="RunAffine"/>): one tiled network whose plan moves every
    /// column in order (<see cref="CouplingPlan.MovesEveryColumnInOrder"/>), at least a whole vector of them.</summary>
    public static bool MapsRows(CouplingPlan plan) =>
        plan.Tiled && plan.Parts == 1 && plan.MovesEveryColumnInOrder && plan.Features >= Vector<T>.Count;

    /// <summary>The last layer with its outputs reordered from the raw layout (shift and raw log-scale of each feature in turn)
    /// to every shift, then every raw log-scale.</summary>
    private static TiledLayer<T> PackSplitOutput(CouplingPlan plan, CouplingWeights<T> weights)
    {
        int last = plan.Layers - 1, d = plan.Features, inWidth = plan.Widths[last];
        var w = weights.Weights[last];
        var b = weights.Biases[last];
        var reordered = new T[2 * d * inWidth];
        var bias = new T[2 * d];
        for (int o = 0; o < 2 * d; o++)
        {
            int from = o < d ? 2 * o : 2 * (o - d) + 1;
            w.AsSpan(from * inWidth, inWidth).CopyTo(reordered.AsSpan(o * inWidth));
            bias[o] = b[from];
        }
        return PackLayer(reordered, bias, inWidth, 2 * d);
    }

    /// <summary>Network <paramref name="part"/>'s layers, packed for <see cref="Run"/>, from the weights <c>[out, in]</c> and
    /// biases of <paramref name="weights"/> (those of a <see cref="ParallelMlp"/>'s networks one after another).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TiledLayer<T>[] Pack(CouplingPlan plan, CouplingWeights<T> weights, int part)
    {
        var layers = new TiledLayer<T>[plan.Layers];
        for (int l = 0; l < plan.Layers; l++)
        {
            int inWidth = plan.Widths[l], outWidth = plan.Widths[l + 1];
            layers[l] = PackLayer(weights.Weights[l].AsSpan(part * outWidth * inWidth, outWidth * inWidth),
                weights.Biases[l].AsSpan(part * outWidth, outWidth), inWidth, outWidth);
        }
        return layers;
    }

    /// <summary>One layer of weight <paramref name="w"/> (<c>[out, in]</c> row by row) and bias <paramref name="b"/>, packed.</summary>
    private static TiledLayer<T> PackLayer(ReadOnlySpan<T> w, ReadOnlySpan<T> b, int inWidth, int outWidth)
    {
        int padded = Padded(outWidth);
        var transposed = new T[inWidth * padded];
        for (int j = 0; j < outWidth; j++)
            for (int k = 0; k < inWidth; k++) transposed[k * padded + j] = w[j * inWidth + k];
        int inPadded = Padded(inWidth);
        var rows = new T[outWidth * inPadded];
        for (int j = 0; j < outWidth; j++) w.Slice(j * inWidth, inWidth).CopyTo(rows.AsSpan(j * inPadded));
        var bias = new T[padded];
        b.CopyTo(bias);
        return new TiledLayer<T>(transposed, rows, bias, inWidth, outWidth, padded)
        {
            Transposed = new TiledLayer<T>(rows, Array.Empty<T>(), new T[inPadded], outWidth, inWidth, inPadded),
        };
    }

    /// <summary>The elements a tile buffer of this plan needs: <see cref="TileRows"/> rows of the widest padded layer (or input).</summary>
    public static int TileLength(CouplingPlan plan)
    {
        int widest = plan.Widths[0];
        for (int l = 1; l < plan.Widths.Length; l++) widest = Math.Max(widest, Padded(plan.Widths[l]));
        return TileRows * widest;
    }

    /// <summary>
    /// Network <paramref name="part"/> on every row of <paramref name="work"/>: reads the network's input from the rows
    /// <c>[start, start + work.Rows)</c> of <paramref name="x"/> (row-major <c>[rows, Features]</c>: the plan's
    /// <see cref="CouplingPlan.Inputs"/>, then the row of <paramref name="context"/>) where <paramref name="x"/> is not empty,
    /// else from <c>work.Activations[0]</c> (column-major), and writes output <c>j</c> into raw column <c>j * Parts + part</c> of
    /// <c>work.Activations[Layers]</c>, as the BLAS path does; the hidden layers exist only tile by tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(CouplingPlan plan, TiledLayer<T>[] layers, CouplingWork<T> work, int part, ReadOnlySpan<T> x = default,
        ReadOnlySpan<T> context = default, int start = 0)
    {
        int n = work.Rows, inputs = plan.Widths[0], parts = plan.Parts, outputs = layers[^1].Out;
        var input = work.Activations[0];
        var raw = work.Activations[plan.Layers];
        int length = TileLength(plan);
        var first = work.TileA.AsSpan(part * length, length);
        var second = work.TileB.AsSpan(part * length, length);
        bool relu = plan.Activation == Activation.Relu;
        for (int r0 = 0; r0 < n; r0 += TileRows)
        {
            int rows = Math.Min(TileRows, n - r0);
            if (!x.IsEmpty) TileFromRows(plan, x, context, start + r0, rows, first);
            else
                for (int r = 0; r < TileRows; r++)
                    for (int i = 0; i < inputs; i++) first[r * inputs + i] = r < rows ? input[i * n + r0 + r] : T.Zero;
            Span<T> source = first, target = second;
            int stride = inputs;
            for (int l = 0; l < layers.Length; l++)
            {
                Layer(source, stride, layers[l], target, l < layers.Length - 1, relu);
                stride = layers[l].Padded;
                var swap = source;
                source = target;
                target = swap;
            }
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < outputs; j++) raw[(j * parts + part) * n + r0 + r] = source[r * stride + j];
        }
    }

    /// <summary>
    /// The plan's map of rows <c>[start, start + work.Rows)</c> of <paramref name="x"/> (<see cref="MapsRows"/>): the network on each
    /// tile, its last layer with the outputs split (<see cref="CouplingWeights{T}.SplitOutput"/>), then each row's affine map
    /// straight from the tile into <paramref name="y"/>'s row and its log-det into <paramref name="logAbsDet"/> (the block's rows),
    /// with no column-major buffers on the way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAffine(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, ReadOnlySpan<T> x, ReadOnlySpan<T> context,
        int start, Span<T> y, Span<T> logAbsDet, bool inverse)
    {
        var layers = weights.Tiles?[0] ?? throw new InvalidOperationException("A tiled coupling needs its packed weights.");
        var split = weights.SplitOutput ?? throw new InvalidOperationException("A row map needs its split output layer.");
        int n = work.Rows, d = plan.Features, length = TileLength(plan);
        var first = work.TileA.AsSpan(0, length);
        var second = work.TileB.AsSpan(0, length);
        bool relu = plan.Activation == Activation.Relu;
        for (int r0 = 0; r0 < n; r0 += TileRows)
        {
            int rows = Math.Min(TileRows, n - r0);
            TileFromRows(plan, x, context, start + r0, rows, first);
            Span<T> source = first, target = second;
            int stride = plan.Widths[0];
            for (int l = 0; l < layers.Length - 1; l++)
            {
                Layer(source, stride, layers[l], target, activate: true, relu);
                stride = layers[l].Padded;
                var swap = source;
                source = target;
                target = swap;
            }
            Layer(source, stride, split, target, activate: false, relu: false);
            int r = 0;
            for (; r + 1 < rows; r += 2)
            {
                int row = (start + r0 + r) * d;
                (logAbsDet[r0 + r], logAbsDet[r0 + r + 1]) = AffineRows(plan, weights.Bounds, target.Slice(r * split.Padded, 2 * d),
                    target.Slice((r + 1) * split.Padded, 2 * d), x.Slice(row, 2 * d), y.Slice(row, 2 * d), inverse);
            }
            if (r < rows)
            {
                // An odd last row: paired with itself through a scratch copy of its row.
                int row = (start + r0 + r) * d;
                var pair = CouplingWork<T>.Rent(4 * d);
                try
                {
                    x.Slice(row, d).CopyTo(pair.AsSpan(0, d));
                    x.Slice(row, d).CopyTo(pair.AsSpan(d, d));
                    var parameters = target.Slice(r * split.Padded, 2 * d);
                    (logAbsDet[r0 + r], _) = AffineRows(plan, weights.Bounds, parameters, parameters, pair.AsSpan(0, 2 * d), pair.AsSpan(2 * d, 2 * d), inverse);
                    pair.AsSpan(2 * d, d).CopyTo(y.Slice(row, d));
                }
                finally
                {
                    CouplingWork<T>.Return(pair);
                }
            }
        }
    }

    /// <summary>The affine maps of two rows from their parameters <paramref name="first"/> and <paramref name="second"/> (each
    /// every shift, then every raw log-scale; <paramref name="x"/> and <paramref name="y"/> hold both rows, one after the other):
    /// forward <c>y = x exp(s) + t</c>, inverse <c>y = (x - t) exp(-s)</c>, with <c>s</c> the plan's log-scale map; returns the
    /// rows' log-dets (<c>+-sum s</c>, a vector's lanes summed, then the tail). The two rows' vectors are interleaved: each row's
    /// map is a long chain of dependent steps (tanh, a division, exp), and two independent chains side by side keep the
    /// processor's units busy where one row at a time waited on each step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (T First, T Second) AffineRows(CouplingPlan plan, T[] bounds, ReadOnlySpan<T> first, ReadOnlySpan<T> second, ReadOnlySpan<T> x,
        Span<T> y, bool inverse)
    {
        int d = x.Length / 2, lanes = Vector<T>.Count, j = 0;
        var kind = plan.LogScale;
        T fixedBound = T.CreateChecked(plan.Bound);
        Vector<T> total0 = Vector<T>.Zero, total1 = Vector<T>.Zero;
        for (; j <= d - lanes; j += lanes)
        {
            var c = kind == LogScaleKind.LearnedBound ? new Vector<T>(bounds.AsSpan(j)) : new Vector<T>(fixedBound);
            var u0 = new Vector<T>(first.Slice(d + j));
            var u1 = new Vector<T>(second.Slice(d + j));
            var s0 = kind == LogScaleKind.Raw ? u0 : VectorTanh.Tanh(u0 / c) * c;
            var s1 = kind == LogScaleKind.Raw ? u1 : VectorTanh.Tanh(u1 / c) * c;
            var t0 = new Vector<T>(first.Slice(j));
            var t1 = new Vector<T>(second.Slice(j));
            var x0 = new Vector<T>(x.Slice(j));
            var x1 = new Vector<T>(x.Slice(d + j));
            if (inverse)
            {
                total0 -= s0;
                total1 -= s1;
                ((x0 - t0) * VectorExp.Exp(-s0)).CopyTo(y.Slice(j));
                ((x1 - t1) * VectorExp.Exp(-s1)).CopyTo(y.Slice(d + j));
            }
            else
            {
                total0 += s0;
                total1 += s1;
                (x0 * VectorExp.Exp(s0) + t0).CopyTo(y.Slice(j));
                (x1 * VectorExp.Exp(s1) + t1).CopyTo(y.Slice(d + j));
            }
        }
        T sum0 = Vector.Sum(total0), sum1 = Vector.Sum(total1);
        for (; j < d; j++)
        {
            T c = kind == LogScaleKind.LearnedBound ? bounds[j] : fixedBound;
            T s0 = kind == LogScaleKind.Raw ? first[d + j] : T.Tanh(first[d + j] / c) * c;
            T s1 = kind == LogScaleKind.Raw ? second[d + j] : T.Tanh(second[d + j] / c) * c;
            if (inverse)
            {
                sum0 -= s0;
                sum1 -= s1;
                y[j] = (x[j] - first[j]) * T.Exp(-s0);
                y[d + j] = (x[d + j] - second[j]) * T.Exp(-s1);
            }
            else
            {
                sum0 += s0;
                sum1 += s1;
                y[j] = x[j] * T.Exp(s0) + first[j];
                y[d + j] = x[d + j] * T.Exp(s1) + second[j];
            }
        }
        return (sum0, sum1);
    }

    /// <summary>A tile of the network's input straight from the row-major rows: row <c>r</c> holds row <c>row + r</c>'s
    /// <see cref="CouplingPlan.Inputs"/> columns of <paramref name="x"/> (one copy where they are consecutive), then its context;
    /// the tile's rows beyond <paramref name="rows"/> zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileFromRows(CouplingPlan plan, ReadOnlySpan<T> x, ReadOnlySpan<T> context, int row, int rows, Span<T> tile)
    {
        InputFromRows(plan, x, context, row, rows, tile);
        int inputs = plan.Widths[0];
        tile.Slice(rows * inputs, (TileRows - rows) * inputs).Clear();
    }

    /// <summary>The network's input of rows <c>[row, row + rows)</c> row by row into <paramref name="target"/>: each row's
    /// <see cref="CouplingPlan.Inputs"/> columns of <paramref name="x"/> (one copy where they are consecutive), then its context.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputFromRows(CouplingPlan plan, ReadOnlySpan<T> x, ReadOnlySpan<T> context, int row, int rows, Span<T> target)
    {
        int d = plan.Features, c = plan.ContextFeatures, p = plan.Inputs.Length, inputs = p + c, from = plan.FirstOfConsecutiveInputs;
        var columns = plan.Inputs;
        for (int r = 0; r < rows; r++)
        {
            var input = target.Slice(r * inputs, inputs);
            var source = x.Slice((row + r) * d, d);
            if (from >= 0) source.Slice(from, p).CopyTo(input);
            else
                for (int i = 0; i < p; i++) input[i] = source[columns[i]];
            if (c > 0) context.Slice((row + r) * c, c).CopyTo(input.Slice(p));
        }
    }

    /// <summary>
    /// Network <paramref name="part"/> on every row of <paramref name="work"/> as <see cref="Run"/> computes it (the same products
    /// in the same order, so the same values), keeping every layer's input row by row for <see cref="Backward"/> (training):
    /// the input straight from the rows <c>[start, start + work.Rows)</c> of <paramref name="x"/> (and of <paramref name="context"/>),
    /// layer by layer over the whole block, then the last layer tile by tile into the raw columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TiledActivations<T> Forward(CouplingPlan plan, TiledLayer<T>[] layers, CouplingWork<T> work, int part, ReadOnlySpan<T> x,
        ReadOnlySpan<T> context, int start)
    {
        int n = work.Rows, count = layers.Length, inputs = plan.Widths[0], parts = plan.Parts, outputs = layers[^1].Out;
        var strides = new int[count];
        strides[0] = inputs;
        for (int l = 1; l < count; l++) strides[l] = layers[l - 1].Padded;
        var kept = new TiledActivations<T>(n, strides);
        int tiles = kept.Rows / TileRows;
        var h0 = kept.Inputs[0].AsSpan(0, kept.Rows * inputs);
        h0.Slice(n * inputs).Clear();
        InputFromRows(plan, x, context, start, n, h0);
        for (int l = 0; l + 1 < count; l++)
        {
            int fromStride = strides[l], toStride = strides[l + 1];
            for (int t = 0; t < tiles; t++)
                Layer(kept.Inputs[l].AsSpan(t * TileRows * fromStride, TileRows * fromStride), fromStride, layers[l],
                    kept.Inputs[l + 1].AsSpan(t * TileRows * toStride, TileRows * toStride), activate: true, plan.Activation == Activation.Relu);
        }
        int length = TileLength(plan), stride = strides[count - 1], padded = layers[^1].Padded;
        var tile = work.TileA.AsSpan(part * length, length);
        var raw = work.Activations[plan.Layers];
        for (int t = 0; t < tiles; t++)
        {
            Layer(kept.Inputs[count - 1].AsSpan(t * TileRows * stride, TileRows * stride), stride, layers[^1], tile, activate: false, relu: false);
            int r0 = t * TileRows, rows = Math.Min(TileRows, n - r0);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < outputs; j++) raw[(j * parts + part) * n + r0 + r] = tile[r * padded + j];
        }
        return kept;
    }

    /// <summary>
    /// The backward pass of network <paramref name="part"/> (training), deterministic, from the layers' inputs that
    /// <see cref="Forward"/> kept: layer by layer from the last, the weight gradient <c>G^T H</c> (register tiles that broadcast
    /// six units of the layer's input <c>H</c> at a time against the rows of the output gradient <c>G</c>: <see cref="WeightGradient"/>), the bias gradient
    /// (column sums, row after row) and the input gradient <c>G W</c> through the activation's derivative.
    /// <paramref name="rawGradient"/> holds the loss gradient of the raw parameters (column-major, all networks, <paramref name="n"/>
    /// rows); the pass-through gradient is added into <paramref name="passGradient"/> (column-major) when it is not empty. The
    /// products run in a fixed order on tiles of this kernel, not on the BLAS, whose results depend on the alignment of its
    /// operands (managed arrays move and are aligned differently from call to call), so that training repeats to the bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(CouplingPlan plan, TiledLayer<T>[] layers, int part, TiledActivations<T> kept, int n,
        ReadOnlySpan<T> rawGradient, Span<T> passGradient, T[][] weightGradients, T[][] biasGradients)
    {
        int count = layers.Length, parts = plan.Parts, rows = kept.Rows, tiles = rows / TileRows;
        int widest = 0;
        foreach (var layer in layers) widest = Math.Max(widest, Math.Max(layer.Padded, Padded(layer.In)));
        T[] gradient = CouplingWork<T>.Rent(rows * widest), next = CouplingWork<T>.Rent(rows * widest);
        T[] slab = CouplingWork<T>.Rent(TileRows * rows), product = CouplingWork<T>.Rent(TileRows * widest), sums = CouplingWork<T>.Rent(widest);
        try
        {
            // The output gradient of network `part`, row by row (padded rows and columns zero).
            int outWidth = layers[^1].Out, stride = layers[^1].Padded;
            gradient.AsSpan(0, rows * stride).Clear();
            for (int j = 0; j < outWidth; j++)
                for (int r = 0; r < n; r++) gradient[r * stride + j] = rawGradient[(j * parts + part) * n + r];
            for (int l = count - 1; l >= 0; l--)
            {
                var layer = layers[l];
                int inWidth = layer.In, width = layer.Out, inStride = kept.Strides[l];
                stride = layer.Padded;
                var h = kept.Inputs[l];
                WeightGradient(h, inStride, inWidth, gradient, stride, width, rows, weightGradients[l].AsSpan(part * width * inWidth, width * inWidth), slab, product);
                ColumnSums(gradient, rows, stride, sums);
                sums.AsSpan(0, width).CopyTo(biasGradients[l].AsSpan(part * width, width));
                if (l == 0 && passGradient.IsEmpty) break;
                // dH (rows x in) = G W: W [width, in] row by row with its columns padded to whole vectors, as the layer keeps it.
                var backward = layer.Transposed ?? throw new InvalidOperationException("A tiled layer's backward pass needs its transposed weight.");
                for (int t = 0; t < tiles; t++)
                    Product<RowMajor>(gradient.AsSpan(t * TileRows * stride, TileRows * stride), stride, backward,
                        next.AsSpan(t * TileRows * backward.Padded, TileRows * backward.Padded));
                if (l == 0)
                {
                    for (int i = 0; i < inWidth; i++)
                        for (int r = 0; r < n; r++) passGradient[i * n + r] += next[r * backward.Padded + i];
                    break;
                }
                // Through the activation: the hidden layer's stride is its padded width, as dH's is.
                CouplingKernel<T>.ActivationBackward(plan.Activation, h.AsSpan(0, rows * inStride), next.AsSpan(0, rows * inStride));
                (gradient, next) = (next, gradient);
            }
        }
        finally
        {
            CouplingWork<T>.Return(gradient);
            CouplingWork<T>.Return(next);
            CouplingWork<T>.Return(slab);
            CouplingWork<T>.Return(product);
            CouplingWork<T>.Return(sums);
        }
    }

    /// <summary>A layer's weight gradient <c>dW</c> (<c>[width, in]</c>, into <paramref name="dw"/>) from its kept input
    /// <paramref name="h"/> (<c>[rows, inStride]</c>) and its output gradient <paramref name="gradient"/> (<c>[rows, stride]</c>):
    /// <c>dW^T = H^T G</c>, six units of <c>H</c> at a time against <c>G</c>'s rows (zero beyond the block's rows); where the layer
    /// has six inputs or more the last six overlap the group before (the same sums again), else they are copied out, transposed,
    /// with zero units after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradient(T[] h, int inStride, int inWidth, T[] gradient, int stride, int width, int rows, Span<T> dw, T[] slab, T[] product)
    {
        if (width <= NarrowOutputs && inStride % Lanes == 0)
        {
            NarrowWeightGradient(h, inStride, inWidth, gradient, stride, width, rows, dw);
            return;
        }
        var byRows = new TiledLayer<T>(gradient, Array.Empty<T>(), new T[stride], rows, stride, stride);
        for (int i0 = 0; i0 < inWidth; i0 += TileRows)
        {
            int first = i0, units = Math.Min(TileRows, inWidth - i0);
            if (inWidth >= TileRows)
            {
                first = Math.Min(i0, inWidth - TileRows);
                units = TileRows;
                Product<ColumnMajor>(h.AsSpan(first, (rows - 1) * inStride + TileRows), inStride, byRows, product);
            }
            else
            {
                Transpose(h, inStride, first, units, rows, slab);
                Product<RowMajor>(slab.AsSpan(0, TileRows * rows), rows, byRows, product);
            }
            for (int i = 0; i < units; i++)
                for (int o = 0; o < width; o++) dw[o * inWidth + first + i] = product[i * stride + o];
        }
    }

    /// <summary><see cref="WeightGradient"/> for a layer of few outputs (<see cref="NarrowOutputs"/>; a coupling's last layer) whose
    /// input rows are whole vectors: per output, up to four vectors of the input's units at a time, each row's input times the
    /// row's output gradient (broadcast) added in row order, so that every sum is the one the tiles give (the same products
    /// added in the same order from zero) without computing a padded vector of mostly zero outputs per unit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowWeightGradient(T[] h, int inStride, int inWidth, T[] gradient, int stride, int width, int rows, Span<T> dw)
    {
        int lanes = Lanes, vectors = inStride / lanes;
        if (h.Length < rows * inStride || gradient.Length < rows * stride || dw.Length < width * inWidth || inWidth > inStride)
            throw new ArgumentException("Buffers of mismatched sizes.");
        ref T input = ref MemoryMarshal.GetArrayDataReference(h);
        ref T g = ref MemoryMarshal.GetArrayDataReference(gradient);
        Span<T> sums = stackalloc T[4 * Vector512<T>.Count];
        for (int o = 0; o < width; o++)
        {
            for (int v0 = 0; v0 < vectors; v0 += 4)
            {
                int count = Math.Min(4, vectors - v0);
                Vector512<T> a0 = Vector512<T>.Zero, a1 = Vector512<T>.Zero, a2 = Vector512<T>.Zero, a3 = Vector512<T>.Zero;
                if (count == 4)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        var go = Vector512.Create(Unsafe.Add(ref g, r * stride + o));
                        ref T row = ref Unsafe.Add(ref input, r * inStride + v0 * lanes);
                        a0 = Fma(Vector512.LoadUnsafe(ref row), go, a0);
                        a1 = Fma(Vector512.LoadUnsafe(ref row, (nuint)lanes), go, a1);
                        a2 = Fma(Vector512.LoadUnsafe(ref row, (nuint)(2 * lanes)), go, a2);
                        a3 = Fma(Vector512.LoadUnsafe(ref row, (nuint)(3 * lanes)), go, a3);
                    }
                }
                else
                {
                    for (int r = 0; r < rows; r++)
                    {
                        var go = Vector512.Create(Unsafe.Add(ref g, r * stride + o));
                        ref T row = ref Unsafe.Add(ref input, r * inStride + v0 * lanes);
                        a0 = Fma(Vector512.LoadUnsafe(ref row), go, a0);
                        if (count > 1) a1 = Fma(Vector512.LoadUnsafe(ref row, (nuint)lanes), go, a1);
                        if (count > 2) a2 = Fma(Vector512.LoadUnsafe(ref row, (nuint)(2 * lanes)), go, a2);
                    }
                }
                ref T to = ref MemoryMarshal.GetReference(sums);
                Store(a0, a1, a2, a3, ref to);
                int first = v0 * lanes, last = Math.Min(inWidth, (v0 + count) * lanes);
                for (int i = first; i < last; i++) dw[o * inWidth + i] = sums[i - first];
            }
        }
    }

    /// <summary><c>sums[o] = sum_r g[r, o]</c> over <paramref name="rows"/> rows of <paramref name="stride"/> (whole vectors),
    /// added row after row, as a scalar loop would.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnSums(T[] g, int rows, int stride, T[] sums)
    {
        if (g.Length < rows * stride || sums.Length < stride || stride % Lanes != 0) throw new ArgumentException("Buffers of mismatched sizes.");
        ref T from = ref MemoryMarshal.GetArrayDataReference(g);
        ref T to = ref MemoryMarshal.GetArrayDataReference(sums);
        for (int o = 0; o < stride; o += Lanes)
        {
            var sum = Vector512<T>.Zero;
            for (int r = 0; r < rows; r++) sum += Vector512.LoadUnsafe(ref from, (nuint)(r * stride + o));
            sum.StoreUnsafe(ref to, (nuint)o);
        }
    }

    /// <summary><c>slab[i, r] = h[r, first + i]</c> for <paramref name="units"/> units (the slab's other rows of six zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(T[] h, int stride, int first, int units, int rows, T[] slab)
    {
        slab.AsSpan(0, TileRows * rows).Clear();
        ref T from = ref MemoryMarshal.GetArrayDataReference(h);
        ref T to = ref MemoryMarshal.GetArrayDataReference(slab);
        if (h.Length < (rows - 1) * stride + first + units || slab.Length < TileRows * rows) throw new ArgumentException("Buffers of mismatched sizes.");
        for (int r = 0; r < rows; r++)
        {
            ref T row = ref Unsafe.Add(ref from, r * stride + first);
            for (int i = 0; i < units; i++) Unsafe.Add(ref to, i * rows + r) = Unsafe.Add(ref row, i);
        }
    }

    /// <summary>Where a tile's source keeps element <c>(row, k)</c> (row of the tile, input <c>k</c>) with stride <c>stride</c>.</summary>
    private interface ILayout
    {
        /// <summary>The element's offset.</summary>
        static abstract int At(int row, int k, int stride);

        /// <summary>Whether a source of <paramref name="length"/> elements holds the tile's rows with <paramref name="inputs"/> inputs.</summary>
        static abstract bool Holds(int length, int stride, int inputs);
    }

    /// <summary>Row by row: input <c>k</c> of row <c>m</c> at <c>m stride + k</c> (a tile of a layer's input).</summary>
    private readonly struct RowMajor : ILayout
    {
        public static int At(int row, int k, int stride) => row * stride + k;

        public static bool Holds(int length, int stride, int inputs) => length >= TileRows * stride && stride >= inputs;
    }

    /// <summary>Column by column: input <c>k</c> of row <c>m</c> at <c>k stride + m</c> (six units of a layer's input read across
    /// its rows, for the weight gradient).</summary>
    private readonly struct ColumnMajor : ILayout
    {
        public static int At(int row, int k, int stride) => k * stride + row;

        public static bool Holds(int length, int stride, int inputs) => inputs > 0 && length >= (inputs - 1) * stride + TileRows && stride >= TileRows;
    }

    /// <summary><c>target = source W + b</c> for one tile, all panels (no activation, no dot-product shortcut).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Product<TLayout>(ReadOnlySpan<T> source, int stride, TiledLayer<T> layer, Span<T> target) where TLayout : struct, ILayout
    {
        if (!TLayout.Holds(source.Length, stride, layer.In) || target.Length < TileRows * layer.Padded || layer.Weights.Length < layer.In * layer.Padded)
            throw new ArgumentException("Tile buffers of mismatched sizes.");
        int panel = 4 * Lanes, column = 0;
        for (; column + panel <= layer.Padded; column += panel) Panel4<TLayout>(source, stride, layer, column, target);
        for (; column < layer.Padded; column += Lanes) Panel1<TLayout>(source, stride, layer, column, target);
    }

    /// <summary><c>target = act(source W + b)</c> for one tile: panels of four vectors of outputs, then single vectors. Compiled
    /// optimised from the first call, as are the other methods here: they run hundreds of thousands of times in one evaluation,
    /// which would otherwise start in unoptimised code and wait for the runtime to recompile them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Layer(ReadOnlySpan<T> source, int stride, TiledLayer<T> layer, Span<T> target, bool activate, bool relu)
    {
        if (source.Length < TileRows * stride || target.Length < TileRows * layer.Padded || layer.Weights.Length < layer.In * layer.Padded)
            throw new ArgumentException("Tile buffers of mismatched sizes.");
        if (layer.Out <= NarrowOutputs && stride % Lanes == 0 && stride >= layer.In) Narrow(source, stride, layer, target);
        else Product<RowMajor>(source, stride, layer, target);
        if (activate) Activate(target.Slice(0, TileRows * layer.Padded), relu);
    }

    /// <summary>Four vectors of outputs from <paramref name="column"/> on, for the tile's six rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel4<TLayout>(ReadOnlySpan<T> source, int stride, TiledLayer<T> layer, int column, Span<T> target) where TLayout : struct, ILayout
    {
        int lanes = Lanes, width = layer.Padded;
        ref T x = ref MemoryMarshal.GetReference(source);
        ref T w = ref MemoryMarshal.GetArrayDataReference(layer.Weights);
        ref T b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(layer.Bias), column);
        Vector512<T> b0 = Vector512.LoadUnsafe(ref b), b1 = Vector512.LoadUnsafe(ref b, (nuint)lanes),
            b2 = Vector512.LoadUnsafe(ref b, (nuint)(2 * lanes)), b3 = Vector512.LoadUnsafe(ref b, (nuint)(3 * lanes));
        Vector512<T> a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3, a20 = b0, a21 = b1, a22 = b2, a23 = b3;
        Vector512<T> a30 = b0, a31 = b1, a32 = b2, a33 = b3, a40 = b0, a41 = b1, a42 = b2, a43 = b3, a50 = b0, a51 = b1, a52 = b2, a53 = b3;
        for (int k = 0; k < layer.In; k++)
        {
            ref T wk = ref Unsafe.Add(ref w, k * width + column);
            Vector512<T> w0 = Vector512.LoadUnsafe(ref wk), w1 = Vector512.LoadUnsafe(ref wk, (nuint)lanes),
                w2 = Vector512.LoadUnsafe(ref wk, (nuint)(2 * lanes)), w3 = Vector512.LoadUnsafe(ref wk, (nuint)(3 * lanes));
            var v = Vector512.Create(Unsafe.Add(ref x, TLayout.At(0, k, stride)));
            a00 = Fma(v, w0, a00); a01 = Fma(v, w1, a01); a02 = Fma(v, w2, a02); a03 = Fma(v, w3, a03);
            v = Vector512.Create(Unsafe.Add(ref x, TLayout.At(1, k, stride)));
            a10 = Fma(v, w0, a10); a11 = Fma(v, w1, a11); a12 = Fma(v, w2, a12); a13 = Fma(v, w3, a13);
            v = Vector512.Create(Unsafe.Add(ref x, TLayout.At(2, k, stride)));
            a20 = Fma(v, w0, a20); a21 = Fma(v, w1, a21); a22 = Fma(v, w2, a22); a23 = Fma(v, w3, a23);
            v = Vector512.Create(Unsafe.Add(ref x, TLayout.At(3, k, stride)));
            a30 = Fma(v, w0, a30); a31 = Fma(v, w1, a31); a32 = Fma(v, w2, a32); a33 = Fma(v, w3, a33);
            v = Vector512.Create(Unsafe.Add(ref x, TLayout.At(4, k, stride)));
            a40 = Fma(v, w0, a40); a41 = Fma(v, w1, a41); a42 = Fma(v, w2, a42); a43 = Fma(v, w3, a43);
            v = Vector512.Create(Unsafe.Add(ref x, TLayout.At(5, k, stride)));
            a50 = Fma(v, w0, a50); a51 = Fma(v, w1, a51); a52 = Fma(v, w2, a52); a53 = Fma(v, w3, a53);
        }
        ref T y = ref Unsafe.Add(ref MemoryMarshal.GetReference(target), column);
        Store(a00, a01, a02, a03, ref y);
        Store(a10, a11, a12, a13, ref Unsafe.Add(ref y, width));
        Store(a20, a21, a22, a23, ref Unsafe.Add(ref y, 2 * width));
        Store(a30, a31, a32, a33, ref Unsafe.Add(ref y, 3 * width));
        Store(a40, a41, a42, a43, ref Unsafe.Add(ref y, 4 * width));
        Store(a50, a51, a52, a53, ref Unsafe.Add(ref y, 5 * width));
    }

    /// <summary>One vector of outputs from <paramref name="column"/> on, for the tile's six rows (a narrow output layer, or what
    /// is left of a layer after its panels of four).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel1<TLayout>(ReadOnlySpan<T> source, int stride, TiledLayer<T> layer, int column, Span<T> target) where TLayout : struct, ILayout
    {
        int width = layer.Padded;
        ref T x = ref MemoryMarshal.GetReference(source);
        ref T w = ref MemoryMarshal.GetArrayDataReference(layer.Weights);
        var b0 = Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(layer.Bias), (nuint)column);
        Vector512<T> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0;
        for (int k = 0; k < layer.In; k++)
        {
            var wk = Vector512.LoadUnsafe(ref w, (nuint)(k * width + column));
            a0 = Fma(Vector512.Create(Unsafe.Add(ref x, TLayout.At(0, k, stride))), wk, a0);
            a1 = Fma(Vector512.Create(Unsafe.Add(ref x, TLayout.At(1, k, stride))), wk, a1);
            a2 = Fma(Vector512.Create(Unsafe.Add(ref x, TLayout.At(2, k, stride))), wk, a2);
            a3 = Fma(Vector512.Create(Unsafe.Add(ref x, TLayout.At(3, k, stride))), wk, a3);
            a4 = Fma(Vector512.Create(Unsafe.Add(ref x, TLayout.At(4, k, stride))), wk, a4);
            a5 = Fma(Vector512.Create(Unsafe.Add(ref x, TLayout.At(5, k, stride))), wk, a5);
        }
        ref T y = ref Unsafe.Add(ref MemoryMarshal.GetReference(target), column);
        a0.StoreUnsafe(ref y);
        a1.StoreUnsafe(ref Unsafe.Add(ref y, width));
        a2.StoreUnsafe(ref Unsafe.Add(ref y, 2 * width));
        a3.StoreUnsafe(ref Unsafe.Add(ref y, 3 * width));
        a4.StoreUnsafe(ref Unsafe.Add(ref y, 4 * width));
        a5.StoreUnsafe(ref Unsafe.Add(ref y, 5 * width));
    }

    /// <summary>A layer of few outputs: per row and output, the dot product of the row (whole vectors; the tile's padding is zero,
    /// as are the weight rows beyond <c>in</c>) with the weight row, plus the bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow(ReadOnlySpan<T> source, int stride, TiledLayer<T> layer, Span<T> target)
    {
        int lanes = Lanes, vectors = stride / lanes, inPadded = Padded(layer.In);
        vectors = Math.Min(vectors, inPadded / lanes);
        ref T x = ref MemoryMarshal.GetReference(source);
        ref T w = ref MemoryMarshal.GetArrayDataReference(layer.Rows);
        for (int j = 0; j < layer.Out; j++)
        {
            ref T wj = ref Unsafe.Add(ref w, j * inPadded);
            T bias = layer.Bias[j];
            for (int r = 0; r < TileRows; r++)
            {
                ref T row = ref Unsafe.Add(ref x, r * stride);
                Vector512<T> even = Vector512<T>.Zero, odd = Vector512<T>.Zero;
                int v = 0;
                for (; v + 1 < vectors; v += 2)
                {
                    even = Fma(Vector512.LoadUnsafe(ref row, (nuint)(v * lanes)), Vector512.LoadUnsafe(ref wj, (nuint)(v * lanes)), even);
                    odd = Fma(Vector512.LoadUnsafe(ref row, (nuint)((v + 1) * lanes)), Vector512.LoadUnsafe(ref wj, (nuint)((v + 1) * lanes)), odd);
                }
                if (v < vectors) even = Fma(Vector512.LoadUnsafe(ref row, (nuint)(v * lanes)), Vector512.LoadUnsafe(ref wj, (nuint)(v * lanes)), even);
                target[r * layer.Padded + j] = Vector512.Sum(even + odd) + bias;
            }
        }
        // The padding columns are zero, as the panels leave them (a following layer's dot products read whole vectors).
        for (int r = 0; r < TileRows; r++) target.Slice(r * layer.Padded + layer.Out, layer.Padded - layer.Out).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<T> v0, Vector512<T> v1, Vector512<T> v2, Vector512<T> v3, ref T row)
    {
        int lanes = Lanes;
        v0.StoreUnsafe(ref row);
        v1.StoreUnsafe(ref row, (nuint)lanes);
        v2.StoreUnsafe(ref row, (nuint)(2 * lanes));
        v3.StoreUnsafe(ref row, (nuint)(3 * lanes));
    }

    /// <summary>ReLU (NaN stays NaN, as in libtorch) or leaky ReLU in place on a tile: a pass of its own after the products, since
    /// in the products' epilogue it left the register allocator too few registers and it spilled the accumulators in the loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Activate(Span<T> tile, bool relu)
    {
        ref T v = ref MemoryMarshal.GetReference(tile);
        var slope = Vector512.Create(LeakySlope);
        int lanes = Lanes;
        for (int i = 0; i + lanes <= tile.Length; i += lanes)
        {
            var x = Vector512.LoadUnsafe(ref v, (nuint)i);
            (relu
                ? Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), Vector512<T>.Zero, x)
                : Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * slope)).StoreUnsafe(ref v, (nuint)i);
        }
    }

    /// <summary><c>a b + c</c>, fused.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"No fused multiply-add for {typeof(T).Name}.");
    }
}
