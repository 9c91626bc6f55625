using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NormalizingFlows.Kernels;

/// <summary>
/// Runs a coupling through <see cref="CouplingKernel{T}"/>: without gradients directly (block by block), with
/// gradients as one custom autograd node whose backward is the kernel's.
/// </summary>
internal static class FusedCoupling
{
    /// <summary>Rows per block when evaluating without gradients: a block's activations stay in the processor's cache. The blocks
    /// are shared out among libtorch's OpenMP threads (<see cref="OpenMpTeam"/>), as many as <c>torch.get_num_threads()</c>.
    /// Not a power of two: the network's input and raw output are kept column by column, a column per block of rows, and
    /// register tiles read and write them across columns; with 1024 rows every column of float32 starts 4 KiB after the last,
    /// so a tile's 32 or 64 columns fell into one set of the first-level cache and evicted each other (a 32-feature MADE's
    /// density pass took twice as long as with 1008 rows, a multiple of the tile's 6 rows and of 16 lanes).</summary>
    public const int BlockRows = 1008;

    /// <summary>Rows per block of a wide coupling's backward pass (training): the layers it keeps for a block of this many rows
    /// (2 MB per 64-unit layer and network in float32) stay in the caches; a whole batch of 65 536 rows halved the throughput.</summary>
    public const int TrainingBlockRows = 8192;

    /// <summary>The coupling's output and log-det through the kernel, as its plan says (<see cref="FusedLayers"/>):
    /// <paramref name="weights"/> are its current weights (CPU tensors of <paramref name="x"/>'s dtype), <paramref name="track"/>
    /// whether autograd tracks the call (then one autograd node); <paramref name="context"/> the context where the plan takes one
    /// (<see cref="CouplingPlan.ContextFeatures"/>), else null.</summary>
    public static (Tensor Output, Tensor LogAbsDet) Apply(CouplingPlan plan, Tensor[] weights, Tensor x, Tensor? context, bool inverse, bool track)
    {
        if (track)
        {
            var call = new Call(plan, inverse, x.requires_grad, context is { requires_grad: true });
            var tensors = context is null ? new[] { x } : new[] { x, context };
            var args = new object[] { call }.Concat(tensors).Concat(weights).ToArray();
            var outputs = CouplingFunction.apply(args);
            return (outputs[0], outputs[1]);
        }
        var input = x.contiguous();
        var conditions = context?.contiguous();
        var y = torch.empty_like(input);
        var ld = torch.empty(input.size(0), dtype: input.dtype);
        if (x.dtype == ScalarType.Float32) Evaluate<float>(plan, weights, input, conditions, y, ld, inverse);
        else Evaluate<double>(plan, weights, input, conditions, y, ld, inverse);
        return (y, ld);
    }

    private static unsafe void Evaluate<T>(CouplingPlan plan, Tensor[] parameters, Tensor x, Tensor? context, Tensor y, Tensor ld, bool inverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = Read<T>(plan, parameters);
        int rows = (int)x.size(0);
        int blocks = (rows + BlockRows - 1) / BlockRows;
        int threads = OpenMpTeam.Available ? Math.Min(blocks, torch.get_num_threads()) : 1;
        fixed (T* input = TensorMemory.Span<T>(x), output = TensorMemory.Span<T>(y), logAbsDet = TensorMemory.Span<T>(ld),
            conditions = context is null ? Span<T>.Empty : TensorMemory.Span<T>(context))
        {
            var memory = new Buffers((IntPtr)input, (IntPtr)output, (IntPtr)logAbsDet, rows, plan.Features, (IntPtr)conditions);
            if (threads <= 1)
            {
                RunBlocks(plan, weights, memory, 0, blocks, inverse);
                return;
            }
            // The blocks are shared out among libtorch's OpenMP threads, each with its own work (a BLAS call inside the parallel
            // region runs on its calling thread), so that the elementwise passes run in parallel as well as the products.
            OpenMpTeam.Run(threads, (t, team) =>
            {
                int perThread = (blocks + team - 1) / team;
                RunBlocks(plan, weights, memory, t * perThread, Math.Min(blocks, (t + 1) * perThread), inverse);
            });
        }
    }

    /// <summary>Runs blocks <c>[first, last)</c> of <paramref name="memory"/> through the kernel with one work buffer.</summary>
    private static unsafe void RunBlocks<T>(CouplingPlan plan, CouplingWeights<T> weights, Buffers memory, int first, int last, bool inverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = new ReadOnlySpan<T>((void*)memory.Input, memory.Rows * memory.Features);
        var output = new Span<T>((void*)memory.Output, memory.Rows * memory.Features);
        var logAbsDet = new Span<T>((void*)memory.LogAbsDet, memory.Rows);
        var context = new ReadOnlySpan<T>((void*)memory.Context, memory.Rows * plan.ContextFeatures);
        CouplingWork<T>? work = null;
        try
        {
            for (int block = first; block < last; block++)
            {
                int start = block * BlockRows, count = Math.Min(BlockRows, memory.Rows - start);
                if (work is null || work.Rows != count)
                {
                    work?.Dispose();
                    work = new CouplingWork<T>(plan, count, pooled: true);
                }
                CouplingKernel<T>.Run(plan, weights, input, context, output, logAbsDet, start, work, inverse);
            }
        }
        finally
        {
            work?.Dispose();
        }
    }

    /// <summary>Where a call's tensors live (pinned by the caller for the duration of the call); <c>Context</c> is zero without
    /// one.</summary>
    private sealed record Buffers(IntPtr Input, IntPtr Output, IntPtr LogAbsDet, int Rows, int Features, IntPtr Context);

    /// <summary>The parameters' values for one call (every layer's weight and bias, then the learned log-bound where there is
    /// one), also packed for <see cref="TiledNetwork{T}"/> where the plan runs as register tiles.</summary>
    internal static CouplingWeights<T> Read<T>(CouplingPlan plan, Tensor[] parameters) where T : unmanaged, IFloatingPointIeee754<T> =>
        TiledNetwork<T>.Packed(plan, Values<T>(plan, parameters));

    /// <summary>The parameters' values as <see cref="Read{T}"/> gives them, not packed for the register tiles (the learned
    /// bounds already <c>exp(l)</c>).</summary>
    internal static CouplingWeights<T> Values<T>(CouplingPlan plan, Tensor[] parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = new T[plan.Layers][];
        var biases = new T[plan.Layers][];
        for (int l = 0; l < plan.Layers; l++)
        {
            weights[l] = Copy<T>(parameters[2 * l]);
            biases[l] = Copy<T>(parameters[2 * l + 1]);
        }
        var bounds = Array.Empty<T>();
        if (plan.LogScale == LogScaleKind.LearnedBound)
        {
            bounds = Copy<T>(parameters[2 * plan.Layers]);
            for (int j = 0; j < bounds.Length; j++) bounds[j] = T.Exp(bounds[j]);
        }
        return new CouplingWeights<T>(weights, biases, bounds);
    }

    /// <summary>A parameter's values, read straight from its buffer where it is contiguous (a parameter always is, unless a caller
    /// re-pointed it): no tensor is made for it, once per parameter and training step.</summary>
    private static T[] Copy<T>(Tensor parameter) where T : unmanaged
    {
        if (parameter.is_contiguous()) return TensorMemory.Span<T>(parameter).ToArray();
        using var contiguous = parameter.contiguous();
        return TensorMemory.Span<T>(contiguous).ToArray();
    }

    /// <summary>What a call of the autograd node needs besides its tensors: the plan, the direction, and whether the input's and
    /// the context's gradients are wanted.</summary>
    internal sealed record Call(CouplingPlan Plan, bool Inverse, bool InputGradient, bool ContextGradient);
}

/// <summary>The fused coupling as one autograd node: inputs <c>(call, x, [context], W_0, b_0, ..., [log-bound])</c> (the context
/// where the plan takes one), outputs <c>(y, logAbsDet)</c>; backward is <see cref="CouplingKernel{T}.Backward"/>.</summary>
internal sealed class CouplingFunction : MultiTensorFunction<CouplingFunction>
{
    private const string WorkKey = "work";

    /// <inheritdoc />
    public override string Name => "FusedCoupling";

    /// <inheritdoc />
    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var call = (FusedCoupling.Call)vars[0];
        var x = ((Tensor)vars[1]).contiguous();
        bool conditional = call.Plan.ContextFeatures > 0;
        var context = conditional ? ((Tensor)vars[2]).contiguous() : null;
        var parameters = vars.Skip(conditional ? 3 : 2).Cast<Tensor>().ToArray();
        ctx.set_materialize_grads(false);
        var y = torch.empty_like(x);
        var ld = torch.empty(x.size(0), dtype: x.dtype);
        if (Recomputes(call.Plan)) ctx.save_for_backward(context is null ? new List<Tensor> { x } : new List<Tensor> { x, context });
        ctx.save_data(WorkKey, x.dtype == ScalarType.Float32 ? Forward<float>(call, parameters, x, context, y, ld) : Forward<double>(call, parameters, x, context, y, ld));
        return new List<Tensor> { y, ld };
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grad_outputs)
    {
        var saved = ctx.get_data(WorkKey);
        var kept = saved is Saved<float> { Work: null } or Saved<double> { Work: null } ? ctx.get_saved_variables() : null;
        var input = kept?[0];
        var context = kept is { Count: > 1 } ? kept[1] : null;
        return saved is Saved<float> single ? Backward(single, grad_outputs, input, context) : Backward((Saved<double>)saved, grad_outputs, input, context);
    }

    /// <summary>
    /// Whether the node keeps its input for the backward pass and its intermediate values only in pooled work: so for wide
    /// networks (register tiles), whose hidden layers are large-object-heap arrays. Keeping those in fresh arrays for every layer
    /// and step made the garbage collector run, concurrently, many times a second. A batch of at most
    /// <see cref="FusedCoupling.TrainingBlockRows"/> rows keeps its forward pass's work (every layer's input, pooled) for the first
    /// backward pass, which returns it to the pool; a larger batch, and a second backward pass through the same graph
    /// (<c>retain_graph</c>), recompute it from the kept input (one more forward pass of the network). A graph dropped without a
    /// backward pass leaves its work to the garbage collector.
    /// </summary>
    private static bool Recomputes(CouplingPlan plan) => plan.Wide;

    private static Saved<T> Forward<T>(FusedCoupling.Call call, Tensor[] parameters, Tensor x, Tensor? context, Tensor y, Tensor ld)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool recompute = Recomputes(call.Plan);
        var weights = FusedCoupling.Read<T>(call.Plan, parameters);
        int rows = (int)x.size(0);
        bool keep = recompute && rows <= FusedCoupling.TrainingBlockRows;
        var work = new CouplingWork<T>(call.Plan, rows, pooled: recompute, keepsNetworks: keep);
        CouplingKernel<T>.Run(call.Plan, weights, TensorMemory.Span<T>(x), Conditions<T>(context), TensorMemory.Span<T>(y), TensorMemory.Span<T>(ld), 0,
            work, call.Inverse, networksInParallel: true);
        if (!recompute) return new Saved<T>(call, weights, work, x.dtype);
        if (keep) return new Saved<T>(call, weights, null, x.dtype) { Pooled = work };
        work.Dispose();
        return new Saved<T>(call, weights, null, x.dtype);
    }

    private static List<Tensor> Backward<T>(Saved<T> saved, List<Tensor> grads, Tensor? input, Tensor? context) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = saved.Call.Plan;
        int rows = saved.Work?.Rows ?? (int)input!.size(0), d = plan.Features;
        var outputGradient = TensorMemory.Gradient(grads[0]);
        var logDetGradient = TensorMemory.Gradient(grads[1]);
        Tensor? inputGradient = saved.Call.InputGradient ? torch.empty(rows, d, dtype: saved.DType) : null;
        Tensor? contextGradient = saved.Call.ContextGradient ? torch.empty(rows, plan.ContextFeatures, dtype: saved.DType) : null;
        var total = new ParameterGradients<T>(saved.Weights);
        if (Interlocked.Exchange(ref saved.Pooled, null) is { } pooled)
        {
            // The forward pass's own work, read once and returned to the pool.
            try
            {
                Backward(saved, pooled, 0, outputGradient, logDetGradient, inputGradient, contextGradient, total);
            }
            finally
            {
                pooled.Dispose();
            }
            return total.ToTensors(plan, inputGradient, contextGradient, saved.DType);
        }
        if (saved.Work is not null)
        {
            Backward(saved, saved.Work, 0, outputGradient, logDetGradient, inputGradient, contextGradient, total);
            return total.ToTensors(plan, inputGradient, contextGradient, saved.DType);
        }
        // Recompute the intermediate values from the saved input into pooled work, keeping every layer's input for the products
        // (the outputs go to scratch buffers), in blocks of TrainingBlockRows rows: the kept layers of a whole large batch would
        // not stay in the caches. The blocks' parameter gradients add up in block order.
        var y = CouplingWork<T>.Rent(rows * d);
        var ld = CouplingWork<T>.Rent(rows);
        var block = rows > FusedCoupling.TrainingBlockRows ? new ParameterGradients<T>(saved.Weights) : null;
        try
        {
            for (int start = 0; start < rows; start += FusedCoupling.TrainingBlockRows)
            {
                int count = Math.Min(FusedCoupling.TrainingBlockRows, rows - start);
                using var work = new CouplingWork<T>(plan, count, pooled: true, keepsNetworks: true);
                CouplingKernel<T>.Run(plan, saved.Weights, TensorMemory.Span<T>(input!), Conditions<T>(context), y.AsSpan(0, rows * d), ld.AsSpan(0, rows),
                    start, work, saved.Call.Inverse, networksInParallel: true);
                var target = start == 0 ? total : block!;
                Backward(saved, work, start, outputGradient, logDetGradient, inputGradient, contextGradient, target);
                if (start > 0) total.Add(block!);
            }
            return total.ToTensors(plan, inputGradient, contextGradient, saved.DType);
        }
        finally
        {
            CouplingWork<T>.Return(y);
            CouplingWork<T>.Return(ld);
        }
    }

    /// <summary>The rows <c>[start, start + work.Rows)</c> of the backward pass: their input and context gradients into
    /// <paramref name="inputGradient"/>'s and <paramref name="contextGradient"/>'s rows, the parameter gradients they give into
    /// <paramref name="gradients"/>.</summary>
    private static void Backward<T>(Saved<T> saved, CouplingWork<T> work, int start, Tensor? outputGradient, Tensor? logDetGradient,
        Tensor? inputGradient, Tensor? contextGradient, ParameterGradients<T> gradients) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = saved.Call.Plan.Features, c = saved.Call.Plan.ContextFeatures, n = work.Rows;
        CouplingKernel<T>.Backward(saved.Call.Plan, saved.Weights, work, saved.Call.Inverse,
            outputGradient is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(outputGradient).Slice(start * d, n * d),
            logDetGradient is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(logDetGradient).Slice(start, n),
            inputGradient is null ? Span<T>.Empty : TensorMemory.Span<T>(inputGradient).Slice(start * d, n * d),
            contextGradient is null ? Span<T>.Empty : TensorMemory.Span<T>(contextGradient).Slice(start * c, n * c),
            gradients.Weights, gradients.Biases, gradients.Bounds);
    }

    /// <summary>The context's values (contiguous), or empty without one.</summary>
    private static ReadOnlySpan<T> Conditions<T>(Tensor? context) where T : unmanaged, IFloatingPointIeee754<T> =>
        context is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(context);

    /// <summary>What backward needs: the call, the weights read in forward, and the forward pass's work (null where it is
    /// recomputed, see <see cref="Recomputes"/>).</summary>
    private sealed record Saved<T>(FusedCoupling.Call Call, CouplingWeights<T> Weights, CouplingWork<T>? Work, ScalarType DType)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The forward pass's pooled work (every layer's input kept) until the first backward pass takes it; else null.</summary>
        public CouplingWork<T>? Pooled;
    }
}
