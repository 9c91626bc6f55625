namespace NormalizingFlows.Runtime;

/// <summary>
/// The library's fused CPU kernels: layers with small networks (a <see cref="Bijectors.Coupling"/> whose conditioner is an
/// <see cref="Conditioners.Mlp"/> of at most <see cref="MaximumWidth"/> units per layer with an affine transform, and
/// <see cref="Bijectors.LearnableLeakyRelu"/>) compute each direction, and its gradient, in one pass over the batch in C# instead
/// of dozens of libtorch operations, whose per-call cost dominates at such sizes. Evaluation without gradients runs the kernel on
/// blocks of rows that stay in the processor's cache, on the calling thread. Results agree with the operation-by-operation path up to
/// floating-point rounding (a test holds both to 1e-12 in float64, values and every gradient); tensors on other devices or of
/// other dtypes always take that path.
/// </summary>
/// <remarks>The fused autograd nodes give first derivatives (everything training, variational fits and the Jacobian checks
/// need); their backward is not itself differentiated, so code that takes second derivatives through such a layer
/// (<c>create_graph: true</c>) must turn <see cref="Enabled"/> off first.</remarks>
public static class FusedKernels
{
    private static volatile bool enabled = true;

    /// <summary>The widest layer (input, hidden or output) a fused coupling network may have; wider networks are matrix products
    /// that libtorch's BLAS does better.</summary>
    public const int MaximumWidth = 16;

    /// <summary>Whether layers use the fused kernels where they apply (default true). Process-wide; turn off to compare with, or
    /// fall back to, the operation-by-operation path.</summary>
    public static bool Enabled
    {
        get => enabled;
        set => enabled = value;
    }
}
