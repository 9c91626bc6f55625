namespace NormalizingFlows.Runtime;

/// <summary>
/// The library's fused CPU kernels: layers with small networks (a <see cref="Bijectors.Coupling"/> whose conditioner is an
/// <see cref="Conditioners.Mlp"/> of at most <see cref="MaximumWidth"/> units per layer with an affine transform, and
/// <see cref="Bijectors.LearnableLeakyRelu"/>) compute each direction, and its gradient, in one pass over the batch in C# instead
/// of dozens of libtorch operations, whose per-call cost dominates at such sizes; so does <see cref="Bijectors.LuLinear"/> with up
/// to 16 features (one affine map per row, its matrix formed in double precision). Without gradients (evaluation and sampling)
/// the kernels also take couplings with wider networks and RealNVP's two-network <see cref="Conditioners.ParallelMlp"/>, whose
/// matrix products go straight to the BLAS that libtorch links (MKL's <c>sgemm</c>/<c>dgemm</c>); the batch is cut into blocks
/// of rows that stay in the processor's cache, and the blocks are shared out among libtorch's own OpenMP threads. On processors
/// with 512-bit vectors such a network with ReLU or leaky ReLU runs as register tiles of six rows instead (no BLAS call, bias and
/// activation folded in), and a <see cref="Bijectors.Chain"/> whose every layer is fused runs each block through all its layers
/// before the next block, one round of the threads per call.
/// Results agree with the operation-by-operation path up to floating-point rounding (tests hold both to 1e-12 in float64, values
/// and every gradient); tensors on other devices or of other dtypes always take that path.
/// </summary>
/// <remarks>The fused autograd nodes give first derivatives (everything training, variational fits and the Jacobian checks
/// need); their backward is not itself differentiated, so code that takes second derivatives through such a layer
/// (<c>create_graph: true</c>) must turn <see cref="Enabled"/> off first.</remarks>
public static class FusedKernels
{
    private static volatile bool enabled = true;

    /// <summary>The widest layer (input, hidden or output) a fused coupling network may have with gradients; wider networks are
    /// matrix products that libtorch's operations (and their backward) do as well, so training keeps them. Without gradients
    /// wider networks are fused too, where libtorch's BLAS can be called directly.</summary>
    public const int MaximumWidth = 16;

    /// <summary>Whether layers use the fused kernels where they apply (default true). Process-wide; turn off to compare with, or
    /// fall back to, the operation-by-operation path.</summary>
    public static bool Enabled
    {
        get => enabled;
        set => enabled = value;
    }
}
