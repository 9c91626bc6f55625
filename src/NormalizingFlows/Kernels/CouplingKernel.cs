using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Kernels;

/// <summary>The values of a fused coupling's parameters, copied out of their tensors for one call.</summary>
/// <param name="Weights">Per linear layer, the weight <c>[out, in]</c> row by row.</param>
/// <param name="Biases">Per linear layer, the bias <c>[out]</c>.</param>
/// <param name="Bounds">Per moved feature, the learned bound <c>c = exp(l)</c>; empty for the other maps.</param>
internal sealed record CouplingWeights<T>(T[][] Weights, T[][] Biases, T[] Bounds)
{
    /// <summary>Per network, its layers packed for <see cref="TiledNetwork{T}"/>; null where the call does not run tiled
    /// (gradients, or a plan the tiled kernel does not cover).</summary>
    public TiledLayer<T>[][]? Tiles { get; init; }

    /// <summary>The network's last layer packed with its outputs reordered, every shift first and then every raw log-scale, where
    /// the plan maps its rows on the tiles (<see cref="TiledNetwork{T}.MapsRows"/>); else null.</summary>
    public TiledLayer<T>? SplitOutput { get; init; }
}

/// <summary>
/// What a fused coupling computed for a block of rows, column by column (<c>[unit][row]</c>, each column <see cref="Rows"/> long):
/// every layer's output (after its activation; the first is the pass-through input and the last the raw transform
/// parameters), and per moved feature <c>tanh(u / c)</c> (bounded maps), <c>exp(+-s)</c>, the moved input and output. Backward reads it.
/// Pooled work (evaluation without gradients) rents its buffers from <see cref="ArrayPool{T}.Shared"/> (they may be longer than
/// needed) and returns them on <see cref="Dispose"/>: a wide network's buffers are large-object-heap arrays, and allocating them
/// afresh for every layer and block made the garbage collector run, concurrently, many times a second. Work saved for an
/// autograd node's backward is not pooled (a graph kept with <c>retain_graph</c> may run backward twice).
/// </summary>
internal sealed class CouplingWork<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool pooled;

    public CouplingWork(CouplingPlan plan, int rows, bool pooled, bool keepsNetworks = false)
    {
        this.pooled = pooled;
        Rows = rows;
        Networks = keepsNetworks ? new TiledActivations<T>[plan.Parts] : null;
        Activations = new T[plan.Widths.Length][];
        // The hidden layers of networks side by side are kept one network after another (the backward pass reads each). Work
        // that keeps its networks' layers (tiled training) keeps them there instead, so it has no column-major hidden layers;
        // work whose plan maps its rows on the tiles (TiledNetwork.RunAffine) needs no column-major buffer at all.
        bool tilesOnly = !keepsNetworks && TiledNetwork<T>.MapsRows(plan);
        for (int l = 0; l < plan.Widths.Length; l++)
            Activations[l] = Allocate(tilesOnly ? 0 : (l == plan.Layers ? plan.RawWidth : l == 0 ? plan.Widths[l] : keepsNetworks ? 0 : plan.Parts * plan.Widths[l]) * rows);
        int moved = tilesOnly ? 0 : plan.Moved.Length * rows;
        // One pair of tile buffers per network: networks side by side may run at once (training).
        int tile = pooled && plan.Tiled ? plan.Parts * TiledNetwork<T>.TileLength(plan) : 0;
        TileA = Allocate(tile);
        TileB = Allocate(tile);
        Tanh = Allocate(moved);
        Scale = Allocate(moved);
        MovedIn = Allocate(moved);
        MovedOut = Allocate(moved);
    }

    public int Rows { get; }
    public T[][] Activations { get; }
    public T[] Tanh { get; }
    public T[] Scale { get; }
    public T[] MovedIn { get; }
    public T[] MovedOut { get; }

    /// <summary>Per network, the layers' inputs that <see cref="TiledNetwork{T}.Forward"/> kept for the backward pass, where the
    /// work was created to keep them (training with tiled networks; filled by <see cref="CouplingKernel{T}.Run"/>); else null.</summary>
    public TiledActivations<T>?[]? Networks { get; }

    /// <summary>Two tile buffers for <see cref="TiledNetwork{T}"/> (pooled work of a plan it covers; else empty or unused).</summary>
    public T[] TileA { get; }

    /// <summary>The second tile buffer.</summary>
    public T[] TileB { get; }

    /// <summary>A pooled array of at least <paramref name="length"/> elements (contents undefined).</summary>
    public static T[] Rent(int length) => ArrayPool<T>.Shared.Rent(Math.Max(1, length));

    /// <summary>Returns an array from <see cref="Rent"/> to the pool.</summary>
    public static void Return(T[] array) => ArrayPool<T>.Shared.Return(array);

    /// <summary>Returns every buffer of pooled work to the pool (the work must not be read afterwards); nothing for unpooled work.</summary>
    public void Dispose()
    {
        if (Networks is not null)
        {
            foreach (var kept in Networks) kept?.Dispose();
            Array.Clear(Networks);
        }
        if (!pooled) return;
        foreach (var a in Activations) Return(a);
        Return(TileA);
        Return(TileB);
        Return(Tanh);
        Return(Scale);
        Return(MovedIn);
        Return(MovedOut);
    }

    private T[] Allocate(int length) => pooled ? Rent(length) : new T[length];
}

/// <summary>
/// The arithmetic of a fused coupling (<see cref="CouplingPlan"/>) on rows of a row-major <c>[batch, features]</c> buffer.
/// Forward: <c>y_B = x_B exp(s) + t</c>, log-det <c>sum s</c>; inverse: <c>x_B = (y_B - t) exp(-s)</c>, log-det <c>-sum s</c>;
/// <c>(t, u)</c> per moved feature from the network on the pass-through features, <c>s</c> from <c>u</c> by the plan's map.
/// Columns are processed with vector loops (<see cref="TensorPrimitives"/> and <see cref="Vector{T}"/>), so a block of rows costs
/// a few hundred short vector loops and no allocation beyond its <see cref="CouplingWork{T}"/>; a wide network's matrix products
/// go to register tiles (<see cref="TiledNetwork{T}"/>) or the BLAS (<see cref="Blas"/>) on rows kept row by row.
/// </summary>
internal static class CouplingKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T LeakySlope = T.CreateChecked(Internal.Activations.LeakySlope);

    /// <summary>Network inputs from which register tiles read their input straight from the rows (<see cref="TiledNetwork{T}.Run"/>):
    /// measured on MAF density passes, 32 inputs gained (100 000 rows: 0.082-0.089 -> 0.070-0.079 s), 8 were even and 2 lost
    /// (0.033-0.045 -> 0.041-0.048 s) to the per-row overhead.</summary>
    private const int RowInputs = 16;

    /// <summary>Runs rows <c>[start, start + work.Rows)</c> of <paramref name="x"/> through the coupling into <paramref name="y"/>
    /// and <paramref name="logAbsDet"/> (one value per row), keeping the intermediate values in <paramref name="work"/>: the
    /// columns the network reads (<see cref="CouplingPlan.Inputs"/>) and the rows' context (<paramref name="context"/>, row-major <c>[rows, ContextFeatures]</c>; empty
    /// without one) into the network's input, the network (<see cref="Network"/>), the affine map of the moved columns
    /// (<see cref="MovedColumns"/>), the pass-through columns copied. With <paramref name="networksInParallel"/> (training, outside
    /// any parallel region) networks side by side run through <see cref="PerNetwork"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(CouplingPlan plan, CouplingWeights<T> weights, ReadOnlySpan<T> x, ReadOnlySpan<T> context, Span<T> y, Span<T> logAbsDet,
        int start, CouplingWork<T> work, bool inverse, bool networksInParallel = false)
    {
        int n = work.Rows, d = plan.Features, c = plan.ContextFeatures, p = plan.Inputs.Length;
        if (work.Networks is null && TiledNetwork<T>.MapsRows(plan))
        {
            // Every column moves in order (a masked autoregressive layer's density pass): the affine map row by row on the tiles
            // (the decision CouplingWork makes too: such work holds only its tiles).
            TiledNetwork<T>.RunAffine(plan, weights, work, x, context, start, y, logAbsDet.Slice(start, n), inverse);
            return;
        }
        // Register tiles read the network's input straight from the rows where they keep it row by row for the backward pass
        // (training), and in evaluation where the input is wide; every other path (networks side by side on two threads share
        // the column-major input; a few input columns gather faster column by column than row by row) reads it column by column.
        bool fromRows = plan.Tiled && (work.Networks is not null || (!(networksInParallel && plan.Parts > 1) && plan.Widths[0] >= RowInputs));
        if (!fromRows)
        {
            var input = work.Activations[0];
            for (int i = 0; i < p; i++) Gather(x, start * d + plan.Inputs[i], d, input.AsSpan(i * n, n));
            for (int j = 0; j < c; j++) Gather(context, start * c + j, c, input.AsSpan((p + j) * n, n));
        }
        Network(plan, weights, work, networksInParallel, fromRows ? x : default, context, start);
        MovedColumns(plan, weights, x, y, logAbsDet.Slice(start, n), start, work, inverse);
        for (int i = 0; i < plan.Pass.Length; i++)
        {
            int column = plan.Pass[i];
            for (int r = 0; r < n; r++) y[(start + r) * d + column] = x[(start + r) * d + column];
        }
    }

    /// <summary>The network from its input (<c>work.Activations[0]</c>, column by column) to the raw transform parameters
    /// (<c>work.Activations[Layers]</c>), as the plan's <see cref="CouplingPlan.Operations"/> say: register tiles (keeping every
    /// layer's input for the backward pass where the work keeps networks), BLAS products on rows, or column by column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Network(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, bool networksInParallel,
        ReadOnlySpan<T> rows, ReadOnlySpan<T> context, int start)
    {
        switch (plan.Operations)
        {
            case LayerOperations.Tiles:
                var tiles = weights.Tiles ?? throw new InvalidOperationException("A tiled coupling needs its packed weights.");
                if (work.Networks is { } kept)
                {
                    // Training: keep every layer's input for the backward pass.
                    for (int part = 0; part < plan.Parts; part++)
                    {
                        kept[part]?.Dispose();
                        kept[part] = null;
                    }
                    if (networksInParallel) KeepInParallel(plan, tiles, work, kept, rows, context, start);
                    else for (int part = 0; part < plan.Parts; part++) kept[part] = TiledNetwork<T>.Forward(plan, tiles[part], work, part, rows, context, start);
                }
                else if (networksInParallel && rows.IsEmpty) PerNetwork(plan, part => TiledNetwork<T>.Run(plan, tiles[part], work, part));
                else for (int part = 0; part < plan.Parts; part++) TiledNetwork<T>.Run(plan, tiles[part], work, part, rows, context, start);
                break;
            case LayerOperations.Blas:
                for (int part = 0; part < plan.Parts; part++) WideNetwork(plan, weights, work, part);
                break;
            default:
                for (int l = 0; l < plan.Layers; l++)
                {
                    ColumnLayer(plan, weights, work, l);
                    if (l < plan.Layers - 1) Activate(plan.Activation, work.Activations[l + 1].AsSpan(0, plan.Widths[l + 1] * work.Rows));
                }
                break;
        }
    }

    /// <summary>Every network's forward pass keeping its layers' inputs (<see cref="TiledNetwork{T}.Forward"/>), the networks side
    /// by side on the OpenMP threads (<see cref="PerNetwork"/>), each reading the rows (pinned here for the threads).</summary>
    private static unsafe void KeepInParallel(CouplingPlan plan, TiledLayer<T>[][] tiles, CouplingWork<T> work, TiledActivations<T>?[] kept,
        ReadOnlySpan<T> rows, ReadOnlySpan<T> context, int start)
    {
        fixed (T* x = rows, conditions = context)
        {
            var (from, fromLength, given, givenLength) = ((IntPtr)x, rows.Length, (IntPtr)conditions, context.Length);
            PerNetwork(plan, part => kept[part] = TiledNetwork<T>.Forward(plan, tiles[part], work, part,
                new ReadOnlySpan<T>((void*)from, fromLength), new ReadOnlySpan<T>((void*)given, givenLength), start));
        }
    }

    /// <summary>The moved columns of rows <c>[start, start + work.Rows)</c>: per moved feature, its log-scale from the raw
    /// parameters and its affine map (<see cref="Affine"/>) into <paramref name="y"/>; the log-dets summed into
    /// <paramref name="ld"/> (the block's rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MovedColumns(CouplingPlan plan, CouplingWeights<T> weights, ReadOnlySpan<T> x, Span<T> y, Span<T> ld, int start,
        CouplingWork<T> work, bool inverse)
    {
        int n = work.Rows, d = plan.Features;
        var raw = work.Activations[plan.Layers];
        ld.Clear();
        for (int j = 0; j < plan.Moved.Length; j++)
        {
            int column = plan.Moved[j];
            var shift = raw.AsSpan(2 * j * n, n);
            var u = raw.AsSpan((2 * j + 1) * n, n);
            var tanh = work.Tanh.AsSpan(j * n, n);
            var scale = work.Scale.AsSpan(j * n, n);
            var movedIn = work.MovedIn.AsSpan(j * n, n);
            var movedOut = work.MovedOut.AsSpan(j * n, n);
            Gather(x, start * d + column, d, movedIn);
            LogScale(plan, weights, j, u, tanh, scale); // scale holds s
            Affine(inverse, shift, movedIn, scale, movedOut, ld);
            Scatter(movedOut, y, start * d + column, d);
        }
    }

    /// <summary>
    /// The affine map of one moved feature in one pass, <paramref name="scale"/> holding <c>s</c> on entry and <c>exp(+-s)</c> on
    /// return. Forward: <c>ld += s</c>, <c>out = in exp(s) + shift</c>; inverse: <c>ld -= s</c>, <c>out = (in - shift) exp(-s)</c>.
    /// Written with <see cref="Vector{T}"/> and <see cref="VectorExp"/> rather than a chain of
    /// <see cref="TensorPrimitives"/> calls: those generic methods start as unoptimised code and stay so until the runtime has
    /// recompiled them, which made the first evaluation after training several times slower than the next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Affine(bool inverse, ReadOnlySpan<T> shift, ReadOnlySpan<T> movedIn, Span<T> scale, Span<T> movedOut, Span<T> ld)
    {
        int n = ld.Length;
        if (shift.Length < n || movedIn.Length < n || scale.Length < n || movedOut.Length < n) throw new ArgumentException("Column buffers of mismatched sizes.");
        ref T t = ref MemoryMarshal.GetReference(shift);
        ref T x = ref MemoryMarshal.GetReference(movedIn);
        ref T e = ref MemoryMarshal.GetReference(scale);
        ref T y = ref MemoryMarshal.GetReference(movedOut);
        ref T l = ref MemoryMarshal.GetReference(ld);
        int lanes = Vector<T>.Count, r = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; r <= n - lanes; r += lanes)
            {
                var sv = Vector.LoadUnsafe(ref e, (nuint)r);
                var lv = Vector.LoadUnsafe(ref l, (nuint)r);
                var tv = Vector.LoadUnsafe(ref t, (nuint)r);
                var xv = Vector.LoadUnsafe(ref x, (nuint)r);
                Vector<T> ev;
                if (inverse)
                {
                    (lv - sv).StoreUnsafe(ref l, (nuint)r);
                    ev = Exp(-sv);
                    ((xv - tv) * ev).StoreUnsafe(ref y, (nuint)r);
                }
                else
                {
                    (lv + sv).StoreUnsafe(ref l, (nuint)r);
                    ev = Exp(sv);
                    (xv * ev + tv).StoreUnsafe(ref y, (nuint)r);
                }
                ev.StoreUnsafe(ref e, (nuint)r);
            }
        }
        for (; r < n; r++)
        {
            T sr = Unsafe.Add(ref e, r);
            if (inverse)
            {
                Unsafe.Add(ref l, r) -= sr;
                T er = T.Exp(-sr);
                Unsafe.Add(ref e, r) = er;
                Unsafe.Add(ref y, r) = (Unsafe.Add(ref x, r) - Unsafe.Add(ref t, r)) * er;
            }
            else
            {
                Unsafe.Add(ref l, r) += sr;
                T er = T.Exp(sr);
                Unsafe.Add(ref e, r) = er;
                Unsafe.Add(ref y, r) = Unsafe.Add(ref x, r) * er + Unsafe.Add(ref t, r);
            }
        }
    }

    /// <summary><c>exp</c> of every lane (float32 or float64), exactly 1 at 0 as libtorch's is (a fresh, zero-initialised coupling
    /// stays an exact identity).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Exp(Vector<T> v) => VectorExp.Exp(v);

    /// <summary>Layer <paramref name="l"/> column by column: <c>output[:, k] = b_k + sum_i W_ki source[:, i]</c>, both column-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnLayer(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, int l)
    {
        int n = work.Rows, inWidth = plan.Widths[l], outWidth = plan.Widths[l + 1];
        var source = work.Activations[l];
        var output = work.Activations[l + 1];
        var w = weights.Weights[l];
        for (int k = 0; k < outWidth; k++)
        {
            var column = output.AsSpan(k * n, n);
            column.Fill(weights.Biases[l][k]);
            for (int i = 0; i < inWidth; i++)
                SpanArithmetic.MultiplyAdd<T>(source.AsSpan(i * n, n), w[k * inWidth + i], column);
        }
    }

    /// <summary>
    /// The network of a wide plan: the hidden layers are kept row by row (<c>[row][unit]</c>, the layout in
    /// which the BLAS product of a long, thin matrix with a small square one runs fastest), the input and the raw output column by
    /// column as in <see cref="Run"/>. First layer: one input feature is a broadcast multiply-add, more are a product with the
    /// input columns transposed; hidden layers: a product; last layer: a product that writes columns onto the biases.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideNetwork(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, int part)
    {
        int n = work.Rows, layers = plan.Layers, parts = plan.Parts;
        for (int l = 0; l < layers; l++)
        {
            int inWidth = plan.Widths[l], outWidth = plan.Widths[l + 1];
            // Network `part`'s hidden layers follow those of the networks before it, as its weights [out, in] and biases do.
            var source = l == 0 ? work.Activations[0].AsSpan() : work.Activations[l].AsSpan(part * inWidth * n, inWidth * n);
            var output = work.Activations[l + 1];
            var w = weights.Weights[l].AsSpan(part * outWidth * inWidth, outWidth * inWidth);
            var b = weights.Biases[l].AsSpan(part * outWidth, outWidth);
            if (l == layers - 1)
            {
                // Output j of this network is raw column j * parts + part: a column-major n x out matrix with leading dimension
                // parts * n, starting at column `part`.
                var raw = output.AsSpan(part * n);
                for (int k = 0; k < outWidth; k++) raw.Slice(k * parts * n, n).Fill(b[k]);
                // raw (n x out) += H W^T, H read from its row-major buffer (in x n column-major) transposed.
                Blas.Gemm<T>(true, false, n, outWidth, inWidth, source, inWidth, w, inWidth, T.One, raw, parts * n);
                return;
            }
            var rows = output.AsSpan(part * outWidth * n, outWidth * n);
            if (l == 0 && inWidth == 1)
            {
                BroadcastLayer(plan.Activation, source.Slice(0, n), w, b, rows);
                continue;
            }
            // output^T (out x n, i.e. row-major n x out) = W X^T: the weight array is W^T (in x out), hence transposed;
            // X^T is the input's row-major buffer (in x n) or, for the first layer, its columns (n x in) transposed.
            if (l == 0) Blas.Gemm<T>(true, true, outWidth, n, inWidth, w, inWidth, source, n, T.Zero, rows, outWidth);
            else Blas.Gemm<T>(true, false, outWidth, n, inWidth, w, inWidth, source, inWidth, T.Zero, rows, outWidth);
            BiasAndActivate(plan.Activation, rows, b);
        }
    }

    /// <summary><c>rows[r, u] = act(x[r] w[u] + b[u])</c> (row-major <c>[x.Length, w.Length]</c>), the activation applied in the
    /// same pass for ReLU and leaky ReLU. Kept apart from <see cref="BiasAndActivate"/> on purpose: one loop serving both (a
    /// branch on the source inside the vector loop) measured about 10 % slower log-prob of 100 000 points (seed000, three
    /// alternating runs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BroadcastLayer(Activation activation, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> rows)
    {
        int width = w.Length, count = x.Length;
        if ((long)count * width > rows.Length || b.Length != width) throw new ArgumentException("Layer buffers of mismatched sizes.");
        ref T weight = ref MemoryMarshal.GetReference(w);
        ref T bias = ref MemoryMarshal.GetReference(b);
        ref T output = ref MemoryMarshal.GetReference(rows);
        bool fuse = activation is Activation.Relu or Activation.LeakyRelu;
        bool relu = activation == Activation.Relu;
        T slope = relu ? T.Zero : LeakySlope;
        int lanes = Vector<T>.Count, vectorWidth = Vector.IsHardwareAccelerated ? width - width % lanes : 0;
        for (int r = 0; r < count; r++)
        {
            ref T row = ref Unsafe.Add(ref output, r * width);
            T xr = x[r];
            var xv = new Vector<T>(xr);
            int u = 0;
            for (; u < vectorWidth; u += lanes)
            {
                var v = xv * Vector.LoadUnsafe(ref weight, (nuint)u) + Vector.LoadUnsafe(ref bias, (nuint)u);
                if (fuse) v = Rectify(v, relu, slope);
                v.StoreUnsafe(ref row, (nuint)u);
            }
            for (; u < width; u++)
            {
                T v = xr * Unsafe.Add(ref weight, u) + Unsafe.Add(ref bias, u);
                Unsafe.Add(ref row, u) = fuse ? Rectify(v, relu, slope) : v;
            }
        }
        if (!fuse) Activate(activation, rows.Slice(0, count * width));
    }

    /// <summary><c>rows[r, u] = act(rows[r, u] + b[u])</c> on the row-major <paramref name="rows"/>, in one pass for ReLU and leaky
    /// ReLU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BiasAndActivate(Activation activation, Span<T> rows, ReadOnlySpan<T> b)
    {
        int width = b.Length, count = rows.Length / width;
        ref T bias = ref MemoryMarshal.GetReference(b);
        ref T output = ref MemoryMarshal.GetReference(rows);
        bool fuse = activation is Activation.Relu or Activation.LeakyRelu;
        bool relu = activation == Activation.Relu;
        T slope = relu ? T.Zero : LeakySlope;
        int lanes = Vector<T>.Count, vectorWidth = Vector.IsHardwareAccelerated ? width - width % lanes : 0;
        for (int r = 0; r < count; r++)
        {
            ref T row = ref Unsafe.Add(ref output, r * width);
            int u = 0;
            for (; u < vectorWidth; u += lanes)
            {
                var v = Vector.LoadUnsafe(ref row, (nuint)u) + Vector.LoadUnsafe(ref bias, (nuint)u);
                if (fuse) v = Rectify(v, relu, slope);
                v.StoreUnsafe(ref row, (nuint)u);
            }
            for (; u < width; u++)
            {
                T v = Unsafe.Add(ref row, u) + Unsafe.Add(ref bias, u);
                Unsafe.Add(ref row, u) = fuse ? Rectify(v, relu, slope) : v;
            }
        }
        if (!fuse) Activate(activation, rows.Slice(0, count * width));
    }

    /// <summary>Runs <paramref name="body"/> for every network of the plan: side by side on libtorch's OpenMP threads when there are
    /// several networks and threads and the caller is not already one of a team's threads (each network writes only its own
    /// outputs and gradients), else one after another.</summary>
    internal static void PerNetwork(CouplingPlan plan, Action<int> body)
    {
        int threads = OpenMpTeam.Available && !OpenMpTeam.InParallel ? Math.Min(plan.Parts, TorchSharp.torch.get_num_threads()) : 1;
        if (threads > 1)
        {
            OpenMpTeam.Run(threads, (thread, team) =>
            {
                for (int part = thread; part < plan.Parts; part += team) body(part);
            });
            return;
        }
        for (int part = 0; part < plan.Parts; part++) body(part);
    }

    /// <summary><c>column[r] = source[offset + r * stride]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gather(ReadOnlySpan<T> source, int offset, int stride, Span<T> column)
    {
        if (offset + (long)(column.Length - 1) * stride >= source.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        ref T from = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), offset);
        for (int r = 0; r < column.Length; r++) column[r] = Unsafe.Add(ref from, r * stride);
    }

    /// <summary><c>target[offset + r * stride] = column[r]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter(ReadOnlySpan<T> column, Span<T> target, int offset, int stride)
    {
        if (offset + (long)(column.Length - 1) * stride >= target.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        ref T to = ref Unsafe.Add(ref MemoryMarshal.GetReference(target), offset);
        for (int r = 0; r < column.Length; r++) Unsafe.Add(ref to, r * stride) = column[r];
    }

    /// <summary>Gradients of a loss through <see cref="Run"/> over all rows of <paramref name="work"/> (one block from row 0):
    /// from the output's and log-det's gradients (each may be empty: zero) to the input's (<paramref name="inputGradient"/>,
    /// skipped when empty) and every parameter's. In four parts: the affine map (<see cref="AffineBackward"/>), the network wide
    /// (<see cref="WideNetworkBackward"/>) or narrow (<see cref="NarrowNetworkBackward"/>), and the pass-through columns
    /// (<see cref="PassThroughBackward"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, bool inverse,
        ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logAbsDetGradient, Span<T> inputGradient, Span<T> contextGradient,
        T[][] weightGradients, T[][] biasGradients, Span<T> logBoundGradient)
    {
        if (!plan.ReadsPassThrough && plan.Moved.Length != plan.Features)
            throw new InvalidOperationException("A fused backward pass whose network reads moved columns needs every column moved (a masked autoregressive layer's density pass).");
        var delta = CouplingWork<T>.Rent(plan.RawWidth * work.Rows);
        AffineBackward(plan, weights, work, inverse, outputGradient, logAbsDetGradient, inputGradient, delta, logBoundGradient);
        bool wantInput = !inputGradient.IsEmpty, wantContext = !contextGradient.IsEmpty;
        // Wide networks train only where they run tiled (the planner's TrainsFused): a deterministic backward on register tiles.
        delta = plan.Wide
            ? WideNetworkBackward(plan, weights, work, delta, wantInput || wantContext, weightGradients, biasGradients)
            : NarrowNetworkBackward(plan, weights, work, delta, wantInput || wantContext, weightGradients, biasGradients);
        if (wantInput && plan.ReadsPassThrough) PassThroughBackward(plan, work.Rows, delta, outputGradient, inputGradient);
        else if (wantInput) NetworkInputBackward(plan, work.Rows, delta, inputGradient);
        if (wantContext) ContextBackward(plan, work.Rows, delta, contextGradient);
        CouplingWork<T>.Return(delta);
    }

    /// <summary>The context's gradient: what the network gives back through its context columns (the network input's columns
    /// after the pass-through ones in <paramref name="networkInputGradient"/>, column-major), row-major into
    /// <paramref name="contextGradient"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ContextBackward(CouplingPlan plan, int n, T[] networkInputGradient, Span<T> contextGradient)
    {
        int c = plan.ContextFeatures, p = plan.Inputs.Length;
        for (int j = 0; j < c; j++) Scatter(networkInputGradient.AsSpan((p + j) * n, n), contextGradient, j, c);
    }

    /// <summary>The affine map's backward pass, per moved feature: the raw parameters' gradients into <paramref name="delta"/>
    /// (column-major, the raw layout), the moved columns' input gradient into <paramref name="inputGradient"/> (when not empty)
    /// and the learned log-bounds' gradients into <paramref name="logBoundGradient"/>. Column by column, each step a vector pass
    /// over the block's rows (the output's gradient gathered from its rows once per column).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AffineBackward(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, bool inverse,
        ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logAbsDetGradient, Span<T> inputGradient, T[] delta, Span<T> logBoundGradient)
    {
        int n = work.Rows, d = plan.Features;
        var raw = work.Activations[plan.Layers];
        bool haveOutput = !outputGradient.IsEmpty, haveLogDet = !logAbsDetGradient.IsEmpty, wantInput = !inputGradient.IsEmpty;
        T[] columnGradient = CouplingWork<T>.Rent(n), scaleGradient = CouplingWork<T>.Rent(n);
        var g = columnGradient.AsSpan(0, n);
        var gs = scaleGradient.AsSpan(0, n);
        if (!haveOutput) g.Clear();
        for (int j = 0; j < plan.Moved.Length; j++)
        {
            int column = plan.Moved[j];
            var scale = work.Scale.AsSpan(j * n, n);
            var shiftGradient = delta.AsSpan(2 * j * n, n);
            var rawGradient = delta.AsSpan((2 * j + 1) * n, n);
            if (haveOutput) Gather(outputGradient, column, d, g);
            // The gradient of the log-scale s: inverse y = (x - t) exp(-s), forward y = x exp(s) + t; the log-det is -s or +s.
            if (inverse)
            {
                TensorPrimitives.Multiply(g, scale, shiftGradient);
                TensorPrimitives.Negate(shiftGradient, shiftGradient);
                TensorPrimitives.Multiply(g, work.MovedOut.AsSpan(j * n, n), gs);
                TensorPrimitives.Negate(gs, gs);
                if (haveLogDet) TensorPrimitives.Subtract(gs, logAbsDetGradient, gs);
            }
            else
            {
                g.CopyTo(shiftGradient);
                TensorPrimitives.Multiply(g, work.MovedIn.AsSpan(j * n, n), gs);
                TensorPrimitives.Multiply(gs, scale, gs);
                if (haveLogDet) TensorPrimitives.Add(gs, logAbsDetGradient, gs);
            }
            if (wantInput)
            {
                TensorPrimitives.Multiply(g, scale, g);
                Scatter(g, inputGradient, column, d);
            }
            if (plan.LogScale == LogScaleKind.Raw)
            {
                gs.CopyTo(rawGradient);
                continue;
            }
            // s = c tanh(u / c): ds/du = 1 - tanh^2(u / c), and ds/dl = c ds/dc = c tanh(u / c) - u (1 - tanh^2(u / c)).
            var tanh = work.Tanh.AsSpan(j * n, n);
            for (int r = 0; r < n; r++)
            {
                T t = tanh[r];
                rawGradient[r] = gs[r] * (T.One - t * t);
            }
            if (plan.LogScale == LogScaleKind.LearnedBound)
                logBoundGradient[j] = weights.Bounds[j] * TensorPrimitives.Dot<T>(gs, tanh) - TensorPrimitives.Dot<T>(rawGradient, raw.AsSpan((2 * j + 1) * n, n));
        }
        CouplingWork<T>.Return(columnGradient);
        CouplingWork<T>.Return(scaleGradient);
    }

    /// <summary>The backward pass of a wide network (register tiles): network by network, side by side on the OpenMP threads
    /// where there are several, each adding into its own pass-through gradient; returns the pass-through gradient (column-major,
    /// rented; <paramref name="delta"/>, the raw parameters' gradient, goes back to the pool).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T[] WideNetworkBackward(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, T[] delta, bool wantInput,
        T[][] weightGradients, T[][] biasGradients)
    {
        int n = work.Rows;
        var tiles = weights.Tiles ?? throw new InvalidOperationException("A wide coupling's backward pass needs its tiled weights.");
        var kept = work.Networks ?? throw new InvalidOperationException("A wide coupling's backward pass needs the layers' inputs its forward pass kept.");
        int inputs = plan.Widths[0];
        var passGradients = new T[plan.Parts][];
        var rawGradient = delta;
        PerNetwork(plan, part =>
        {
            var passGradient = passGradients[part] = CouplingWork<T>.Rent(inputs * n);
            var pass = wantInput ? passGradient.AsSpan(0, inputs * n) : Span<T>.Empty;
            pass.Clear();
            TiledNetwork<T>.Backward(plan, tiles[part], part, kept[part] ?? throw new InvalidOperationException("The forward pass kept no layer inputs."),
                n, rawGradient, pass, weightGradients, biasGradients);
        });
        CouplingWork<T>.Return(delta);
        var sum = passGradients[0];
        for (int part = 1; part < plan.Parts; part++)
        {
            if (wantInput) TensorPrimitives.Add(sum.AsSpan(0, inputs * n), passGradients[part].AsSpan(0, inputs * n), sum.AsSpan(0, inputs * n));
            CouplingWork<T>.Return(passGradients[part]);
        }
        return sum;
    }

    /// <summary>The backward pass of a narrow network, column by column from the last layer: each layer's weight and bias
    /// gradients, then (unless it is the first and no input gradient is wanted) its input's gradient through the activation.
    /// Returns the last gradient computed (the pass-through gradient where wanted; rented), the others going back to the pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T[] NarrowNetworkBackward(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, T[] delta, bool wantInput,
        T[][] weightGradients, T[][] biasGradients)
    {
        int n = work.Rows;
        for (int l = plan.Layers - 1; l >= 0; l--)
        {
            int inWidth = plan.Widths[l], width = plan.Widths[l + 1];
            var source = work.Activations[l];
            var w = weights.Weights[l];
            for (int k = 0; k < width; k++)
            {
                var dk = delta.AsSpan(k * n, n);
                biasGradients[l][k] = TensorPrimitives.Sum<T>(dk);
                for (int i = 0; i < inWidth; i++) weightGradients[l][k * inWidth + i] = TensorPrimitives.Dot<T>(dk, source.AsSpan(i * n, n));
            }
            if (l == 0 && !wantInput) break;
            var previous = CouplingWork<T>.Rent(inWidth * n);
            previous.AsSpan(0, inWidth * n).Clear();
            for (int i = 0; i < inWidth; i++)
            {
                var p = previous.AsSpan(i * n, n);
                for (int k = 0; k < width; k++) TensorPrimitives.MultiplyAdd(delta.AsSpan(k * n, n), w[k * inWidth + i], p, p);
            }
            if (l > 0) ActivationBackward(plan.Activation, source.AsSpan(0, inWidth * n), previous.AsSpan(0, inWidth * n));
            CouplingWork<T>.Return(delta);
            delta = previous;
        }
        return delta;
    }

    /// <summary>The pass-through columns' input gradient: the output's gradient (they are copied) plus what the network gives back
    /// through them (<paramref name="passGradient"/>, column-major).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PassThroughBackward(CouplingPlan plan, int n, T[] passGradient, ReadOnlySpan<T> outputGradient, Span<T> inputGradient)
    {
        int d = plan.Features;
        bool haveOutput = !outputGradient.IsEmpty;
        for (int i = 0; i < plan.Pass.Length; i++)
        {
            int column = plan.Pass[i];
            var g = passGradient.AsSpan(i * n, n);
            for (int r = 0; r < n; r++) inputGradient[r * d + column] = (haveOutput ? outputGradient[r * d + column] : T.Zero) + g[r];
        }
    }

    /// <summary>The input gradient of a plan whose network reads columns that move (a masked autoregressive layer's density pass):
    /// what the network gives back through each column it reads (<paramref name="networkInputGradient"/>, column-major) added to
    /// what the affine map gave that column (<see cref="AffineBackward"/> wrote every moved column's; no column passes through).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NetworkInputBackward(CouplingPlan plan, int n, T[] networkInputGradient, Span<T> inputGradient)
    {
        int d = plan.Features;
        for (int i = 0; i < plan.Inputs.Length; i++)
        {
            int column = plan.Inputs[i];
            var g = networkInputGradient.AsSpan(i * n, n);
            for (int r = 0; r < n; r++) inputGradient[r * d + column] += g[r];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LogScale(CouplingPlan plan, CouplingWeights<T> weights, int j, ReadOnlySpan<T> u, Span<T> tanh, Span<T> scale)
    {
        switch (plan.LogScale)
        {
            case LogScaleKind.Raw:
                u.CopyTo(scale);
                break;
            default:
                T bound = plan.LogScale == LogScaleKind.LearnedBound ? weights.Bounds[j] : T.CreateChecked(plan.Bound);
                SpanArithmetic.BoundedLogScale<T>(u, bound, tanh, scale);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Activate(Activation activation, Span<T> values)
    {
        switch (activation)
        {
            case Activation.Relu:
                Relu(values);
                break;
            case Activation.Tanh:
                VectorTanh.Tanh<T>(values, values);
                break;
            default:
                for (int i = 0; i < values.Length; i++) if (!(values[i] > T.Zero)) values[i] *= LeakySlope;
                break;
        }
    }

    /// <summary>ReLU (<c>v &lt; 0 ? 0 : v</c>, so NaN stays NaN) or leaky ReLU (<c>v &gt; 0 ? v : slope v</c>) of every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Rectify(Vector<T> v, bool relu, T slope) => relu
        ? Vector.ConditionalSelect(Vector.LessThan(v, Vector<T>.Zero), Vector<T>.Zero, v)
        : Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<T>.Zero), v, v * new Vector<T>(slope));

    /// <summary>The scalar <see cref="Rectify(Vector{T}, bool, T)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Rectify(T v, bool relu, T slope) => relu ? (v < T.Zero ? T.Zero : v) : (v > T.Zero ? v : v * slope);

    /// <summary><c>max(v, 0)</c> in place (NaN stays NaN, as in libtorch's ReLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Relu(Span<T> values)
    {
        ref T v = ref MemoryMarshal.GetReference(values);
        int n = values.Length, lanes = Vector<T>.Count, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - lanes; i += lanes)
            {
                var x = Vector.LoadUnsafe(ref v, (nuint)i);
                Vector.ConditionalSelect(Vector.LessThan(x, Vector<T>.Zero), Vector<T>.Zero, x).StoreUnsafe(ref v, (nuint)i);
            }
        }
        for (; i < n; i++) if (Unsafe.Add(ref v, i) < T.Zero) Unsafe.Add(ref v, i) = T.Zero;
    }

    /// <summary>Multiplies <paramref name="gradient"/> by the activation's derivative, read off its output <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ActivationBackward(Activation activation, ReadOnlySpan<T> output, Span<T> gradient)
    {
        int i = 0, lanes = Vector<T>.Count, n = gradient.Length;
        if (Vector.IsHardwareAccelerated && output.Length >= n)
        {
            // Without a branch per element: whether a unit is positive is close to a coin toss.
            ref T y = ref MemoryMarshal.GetReference(output);
            ref T g = ref MemoryMarshal.GetReference(gradient);
            var slope = new Vector<T>(LeakySlope);
            for (; i <= n - lanes; i += lanes)
            {
                var yv = Vector.LoadUnsafe(ref y, (nuint)i);
                var gv = Vector.LoadUnsafe(ref g, (nuint)i);
                (activation == Activation.Tanh ? gv * (Vector<T>.One - yv * yv)
                    : activation == Activation.Relu ? Vector.ConditionalSelect(Vector.GreaterThan(yv, Vector<T>.Zero), gv, Vector<T>.Zero)
                    : Vector.ConditionalSelect(Vector.GreaterThan(yv, Vector<T>.Zero), gv, gv * slope)).StoreUnsafe(ref g, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            if (activation == Activation.Tanh) gradient[i] *= T.One - output[i] * output[i];
            else if (!(output[i] > T.Zero)) gradient[i] = activation == Activation.Relu ? T.Zero : gradient[i] * LeakySlope;
        }
    }
}
