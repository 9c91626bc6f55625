using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Runtime;
using NormalizingFlows.Transforms;
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
    /// are shared out among libtorch's OpenMP threads (<see cref="OpenMpTeam"/>), as many as <c>torch.get_num_threads()</c>.</summary>
    public const int BlockRows = 1024;

    /// <summary>The coupling's output and log-det through the kernel, or null when this call cannot use it (kernels off, or a
    /// tensor that is not a float32/float64 CPU matrix of the parameters' dtype).</summary>
    public static (Tensor Output, Tensor LogAbsDet)? TryApply(CouplingPlan? plan, Conditioner conditioner, IElementwiseTransform transform,
        Tensor x, bool inverse)
    {
        if (plan is null || !FusedKernels.Enabled) return null;
        var parameters = Parameters(plan, conditioner, transform);
        bool track = torch.is_grad_enabled() && (parameters.Any(p => p.requires_grad) || x.requires_grad);
        if (track && plan.EvaluationOnly) return null; // see CouplingPlan.EvaluationOnly
        if (x.dim() != 2 || !TensorMemory.IsReadable(x) || parameters.Any(p => p.dtype != x.dtype || p.device_type != DeviceType.CPU)) return null;
        if (track)
        {
            var args = new object[] { new Call(plan, inverse, x.requires_grad) }.Concat(new[] { x }).Concat(parameters).ToArray();
            var outputs = CouplingFunction.apply(args);
            return (outputs[0], outputs[1]);
        }
        var input = x.contiguous();
        var y = torch.empty_like(input);
        var ld = torch.empty(input.shape[0], dtype: input.dtype);
        if (x.dtype == ScalarType.Float32) Evaluate<float>(plan, parameters, input, y, ld, inverse);
        else Evaluate<double>(plan, parameters, input, y, ld, inverse);
        return (y, ld);
    }

    /// <summary>The tensors the kernel reads, in the order the autograd node takes them: every layer's weight and bias, then the
    /// learned log-bound when there is one.</summary>
    internal static Tensor[] Parameters(CouplingPlan plan, Conditioner conditioner, IElementwiseTransform transform)
    {
        var list = new List<Tensor>(2 * plan.Layers + 1);
        if (conditioner is ParallelMlp parallel)
        {
            for (int l = 0; l < plan.Layers; l++)
            {
                list.Add(parallel.LayerWeights[l]);
                list.Add(parallel.LayerBiases[l]);
            }
        }
        else
        {
            foreach (var layer in ((Mlp)conditioner).Linears)
            {
                list.Add(layer.weight!);
                list.Add(layer.bias!);
            }
        }
        if (plan.LogScale == LogScaleKind.LearnedBound) list.Add(((TanhBoundedAffineTransform)transform).LogBoundParameter);
        return list.ToArray();
    }

    private static unsafe void Evaluate<T>(CouplingPlan plan, Tensor[] parameters, Tensor x, Tensor y, Tensor ld, bool inverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = Read<T>(plan, parameters, tiled: true);
        int rows = (int)x.shape[0];
        int blocks = (rows + BlockRows - 1) / BlockRows;
        int threads = OpenMpTeam.Available ? Math.Min(blocks, torch.get_num_threads()) : 1;
        fixed (T* input = TensorMemory.Span<T>(x), output = TensorMemory.Span<T>(y), logAbsDet = TensorMemory.Span<T>(ld))
        {
            var memory = new Buffers((IntPtr)input, (IntPtr)output, (IntPtr)logAbsDet, rows, plan.Features);
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
                CouplingKernel<T>.Run(plan, weights, input, output, logAbsDet, start, work, inverse);
            }
        }
        finally
        {
            work?.Dispose();
        }
    }

    /// <summary>Where a call's tensors live (pinned by the caller for the duration of the call).</summary>
    private sealed record Buffers(IntPtr Input, IntPtr Output, IntPtr LogAbsDet, int Rows, int Features);

    /// <summary>The parameters' values for one call; with <paramref name="tiled"/> (evaluation only) also packed for
    /// <see cref="TiledNetwork{T}"/> where it covers the plan.</summary>
    internal static CouplingWeights<T> Read<T>(CouplingPlan plan, Tensor[] parameters, bool tiled = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = new T[plan.Layers][];
        var biases = new T[plan.Layers][];
        for (int l = 0; l < plan.Layers; l++)
        {
            weights[l] = TensorMemory.Span<T>(parameters[2 * l].contiguous()).ToArray();
            biases[l] = TensorMemory.Span<T>(parameters[2 * l + 1].contiguous()).ToArray();
        }
        var bounds = Array.Empty<T>();
        if (plan.LogScale == LogScaleKind.LearnedBound)
        {
            bounds = TensorMemory.Span<T>(parameters[2 * plan.Layers].contiguous()).ToArray();
            for (int j = 0; j < bounds.Length; j++) bounds[j] = T.Exp(bounds[j]);
        }
        var read = new CouplingWeights<T>(weights, biases, bounds);
        if (!tiled || !TiledNetwork<T>.Supports(plan)) return read;
        var tiles = new TiledLayer<T>[plan.Parts][];
        for (int part = 0; part < plan.Parts; part++) tiles[part] = TiledNetwork<T>.Pack(plan, read, part);
        return read with { Tiles = tiles };
    }

    /// <summary>What a call of the autograd node needs besides its tensors.</summary>
    internal sealed record Call(CouplingPlan Plan, bool Inverse, bool InputGradient);
}

/// <summary>The fused coupling as one autograd node: inputs <c>(call, x, W_0, b_0, ..., [log-bound])</c>, outputs
/// <c>(y, logAbsDet)</c>; backward is <see cref="CouplingKernel{T}.Backward"/>.</summary>
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
        var parameters = vars.Skip(2).Cast<Tensor>().ToArray();
        ctx.set_materialize_grads(false);
        var y = torch.empty_like(x);
        var ld = torch.empty(x.shape[0], dtype: x.dtype);
        ctx.save_data(WorkKey, x.dtype == ScalarType.Float32 ? Forward<float>(call, parameters, x, y, ld) : Forward<double>(call, parameters, x, y, ld));
        return new List<Tensor> { y, ld };
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grad_outputs)
    {
        var saved = ctx.get_data(WorkKey);
        return saved is Saved<float> single ? Backward(single, grad_outputs) : Backward((Saved<double>)saved, grad_outputs);
    }

    private static Saved<T> Forward<T>(FusedCoupling.Call call, Tensor[] parameters, Tensor x, Tensor y, Tensor ld)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = FusedCoupling.Read<T>(call.Plan, parameters);
        var work = new CouplingWork<T>(call.Plan, (int)x.shape[0], pooled: false);
        CouplingKernel<T>.Run(call.Plan, weights, TensorMemory.Span<T>(x), TensorMemory.Span<T>(y), TensorMemory.Span<T>(ld), 0, work, call.Inverse);
        return new Saved<T>(call, weights, work, x.dtype);
    }

    private static List<Tensor> Backward<T>(Saved<T> saved, List<Tensor> grads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = saved.Call.Plan;
        var outputGradient = Defined(grads[0]);
        var logDetGradient = Defined(grads[1]);
        Tensor? inputGradient = saved.Call.InputGradient ? torch.empty(saved.Work.Rows, plan.Features, dtype: saved.DType) : null;
        var weightGradients = new T[plan.Layers][];
        var biasGradients = new T[plan.Layers][];
        for (int l = 0; l < plan.Layers; l++)
        {
            weightGradients[l] = new T[saved.Weights.Weights[l].Length];
            biasGradients[l] = new T[saved.Weights.Biases[l].Length];
        }
        var boundGradient = new T[saved.Weights.Bounds.Length];
        CouplingKernel<T>.Backward(plan, saved.Weights, saved.Work, saved.Call.Inverse,
            outputGradient is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(outputGradient),
            logDetGradient is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(logDetGradient),
            inputGradient is null ? Span<T>.Empty : TensorMemory.Span<T>(inputGradient),
            weightGradients, biasGradients, boundGradient);
        var result = new List<Tensor> { null!, inputGradient! };
        for (int l = 0; l < plan.Layers; l++)
        {
            result.Add(ToTensor(weightGradients[l], new long[] { plan.Widths[l + 1], plan.Widths[l] }, saved.DType));
            result.Add(ToTensor(biasGradients[l], new long[] { plan.Widths[l + 1] }, saved.DType));
        }
        if (plan.LogScale == LogScaleKind.LearnedBound) result.Add(ToTensor(boundGradient, new long[] { plan.Moved.Length }, saved.DType));
        return result;
    }

    private static Tensor? Defined(Tensor? gradient) => gradient is null || gradient.IsInvalid ? null : gradient.contiguous();

    private static Tensor ToTensor<T>(T[] values, long[] shape, ScalarType dtype) where T : unmanaged
    {
        var tensor = torch.empty(shape, dtype: dtype);
        values.CopyTo(TensorMemory.Span<T>(tensor));
        return tensor;
    }

    private sealed record Saved<T>(FusedCoupling.Call Call, CouplingWeights<T> Weights, CouplingWork<T> Work, ScalarType DType)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
