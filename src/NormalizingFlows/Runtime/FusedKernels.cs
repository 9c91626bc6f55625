using System;

namespace NormalizingFlows.Runtime;

/// <summary>
/// The library's fused CPU kernels: layers with small networks (a <see cref="Bijectors.Coupling"/> whose conditioner is an
/// <see cref="Conditioners.Mlp"/> of at most <see cref="MaximumWidth"/> units per layer with an affine transform, and
/// <see cref="Bijectors.LearnableLeakyRelu"/>) compute each direction, and its gradient, in one pass over the batch in C# instead
/// of dozens of libtorch operations, whose per-call cost dominates at such sizes; so does <see cref="Bijectors.LuLinear"/> with up
/// to 16 features (one affine map per row, its matrix formed in double precision). Without gradients (evaluation and sampling)
/// couplings with wider networks and RealNVP's two-network <see cref="Conditioners.ParallelMlp"/> are fused too, their matrix
/// products going straight to the BLAS that libtorch links (MKL's <c>sgemm</c>/<c>dgemm</c>); the batch is cut into blocks of
/// rows that stay in the processor's cache, and the blocks are shared out among libtorch's own OpenMP threads. With gradients
/// wider networks (one, or RealNVP's two side by side on two threads) are fused too where they run as register tiles (below):
/// one node that keeps every layer's input for its backward pass, whose products run in a fixed order, so that training
/// repeats to the bit; so is a <see cref="Bijectors.MaskedAutoregressive"/> layer's density direction (its MADE read as one
/// network of masked weights), and without gradients its sampling direction, rank by rank. On processors
/// with 512-bit vectors such a network with ReLU or leaky ReLU runs as register tiles of six rows instead (no BLAS call, bias and
/// activation folded in), and a <see cref="Bijectors.Chain"/> whose every layer is fused runs each block through all its layers
/// before the next block, one round of the threads per call; with gradients, a chain whose every layer trains fused (or is a
/// fused LU layer) is one autograd node for all its layers, its batch split into parts that each run the whole chain on one
/// thread, their gradients added in a fixed order. The rational-quadratic spline
/// (<see cref="Transforms.RationalQuadraticSpline"/>, whatever conditioner feeds it: couplings, MADE, images) computes each element
/// (parameter maps, bin search, the bin's map or root, log-derivative, tails) and its gradient in one pass in double precision.
/// Results agree with the operation-by-operation path up to floating-point rounding (tests hold both to 1e-12 in float64, values
/// and every gradient); tensors on other devices or of other dtypes always take that path.
/// </summary>
/// <remarks>The fused autograd nodes give first derivatives (everything training, variational fits and the Jacobian checks
/// need); their backward is not itself differentiated, so code that takes second derivatives through such a layer
/// (<c>create_graph: true</c>) must turn <see cref="Enabled"/> off first. The environment variable
/// <see cref="EnvironmentVariable"/> (<c>NFLOWS_FUSED=0</c>) turns the kernels off for a whole process from its start.</remarks>
public static class FusedKernels
{
    /// <summary>The environment variable read once, when the library is first used: <c>0</c>, <c>false</c>, <c>off</c> or <c>no</c>
    /// (any case) start the process with <see cref="Enabled"/> false; unset or anything else leaves it true.</summary>
    public const string EnvironmentVariable = "NFLOWS_FUSED";

    private static volatile bool enabled = !IsOff(Environment.GetEnvironmentVariable(EnvironmentVariable));
    private static readonly System.Threading.AsyncLocal<bool?> scoped = new();

    /// <summary>The widest layer (input, hidden or output) that the column-by-column coupling kernel takes, with gradients and
    /// without; a wider network (or RealNVP's two networks side by side) keeps its hidden layers row by row, as register tiles or
    /// with its products on the BLAS that libtorch links; with gradients a wider network trains fused where it runs as register
    /// tiles and keeps libtorch's operations on the BLAS.</summary>
    public const int MaximumWidth = 16;

    /// <summary>Whether layers use the fused kernels where they apply (default true). Process-wide; turn off to compare with, or
    /// fall back to, the operation-by-operation path.</summary>
    public static bool Enabled
    {
        get => enabled;
        set => enabled = value;
    }

    /// <summary>Whether the kernels are on for the calling flow of execution: the value of an enclosing <see cref="Scoped"/>, else
    /// <see cref="Enabled"/>. What the planner reads.</summary>
    internal static bool On => scoped.Value ?? enabled;

    /// <summary>Turns the kernels on or off for the calling flow of execution only (the thread and what it awaits) until the result
    /// is disposed, leaving <see cref="Enabled"/> and other threads alone: tests that hold the two paths to each other.</summary>
    internal static IDisposable Scoped(bool on)
    {
        var previous = scoped.Value;
        scoped.Value = on;
        return new Restore(previous);
    }

    /// <summary>Whether an environment value turns the kernels off.</summary>
    internal static bool IsOff(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "0" or "FALSE" or "OFF" or "NO";

    private sealed class Restore(bool? previous) : IDisposable
    {
        public void Dispose() => scoped.Value = previous;
    }
}
