using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Runtime;
using NormalizingFlows.Transforms;

namespace NormalizingFlows.Kernels;

/// <summary>How a fused coupling turns the raw network output into the log-scale <c>s</c>.</summary>
internal enum LogScaleKind
{
    /// <summary><c>s = u</c> (<see cref="ScaleMap.Exp"/>).</summary>
    Raw,
    /// <summary><c>s = B tanh(u / B)</c> with a fixed bound (<see cref="ScaleMap.SoftClamp"/>).</summary>
    FixedBound,
    /// <summary><c>s = c tanh(u / c)</c>, <c>c = exp(l)</c> trained (<see cref="TanhBoundedAffineTransform"/>).</summary>
    LearnedBound,
}

/// <summary>
/// The shape of a coupling that the fused kernel can run: which features pass through and which move, the widths of its
/// <see cref="Mlp"/> or of each network of its <see cref="ParallelMlp"/> (input, hidden..., output), the activation and the
/// log-scale map. Holds no tensors (parameters are read at
/// each call, so <c>to(device)</c> and <c>to(dtype)</c> stay safe).
/// </summary>
internal sealed class CouplingPlan
{
    internal CouplingPlan(int features, int[] pass, int[] moved, int[] widths, int parts, Activation activation, LogScaleKind logScale, double bound)
    {
        Parts = parts;
        Features = features;
        Pass = pass;
        Moved = moved;
        Widths = widths;
        Activation = activation;
        LogScale = logScale;
        Bound = bound;
        RawWidth = parts * widths[^1];
        NeedsBlas = widths.Any(w => w > FusedKernels.MaximumWidth);
        Wide = parts > 1 || (NeedsBlas && Layers > 1);
        Shape = string.Intern($"{string.Join('-', widths)}x{parts}/{moved.Length}");
    }

    /// <summary>What sizes the work buffers of a block (<see cref="CouplingWork{T}"/>) have, as a key: plans with equal shapes may
    /// share their work. Interned, so equal shapes are the same string.</summary>
    public string Shape { get; }

    /// <summary>Features of the event.</summary>
    public int Features { get; }

    /// <summary>Columns that pass through, in the order the network sees them.</summary>
    public int[] Pass { get; }

    /// <summary>Columns that the affine map moves, in the order of the network's parameters.</summary>
    public int[] Moved { get; }

    /// <summary>Widths of each network: input, hidden layers, output (<c>2 * Moved.Length / Parts</c>).</summary>
    public int[] Widths { get; }

    /// <summary>Number of networks side by side: 1 for an <see cref="Mlp"/>, 2 for a <see cref="ParallelMlp"/> of separate shift and
    /// log-scale networks (network <c>p</c>'s output <c>j</c> is raw parameter <c>2 j + p</c>, the layout the kernel reads).</summary>
    public int Parts { get; }

    /// <summary>Raw transform parameters per row: <c>2 * Moved.Length</c>, all networks together.</summary>
    public int RawWidth { get; }

    /// <summary>Number of linear layers.</summary>
    public int Layers => Widths.Length - 1;

    /// <summary>The hidden activation.</summary>
    public Activation Activation { get; }

    /// <summary>The log-scale map.</summary>
    public LogScaleKind LogScale { get; }

    /// <summary>Whether a layer is wider than <see cref="FusedKernels.MaximumWidth"/>: such a plan keeps its hidden layers row by
    /// row and runs as register tiles (<see cref="TiledNetwork{T}"/>) or on the BLAS matrix product (<see cref="Blas"/>).</summary>
    public bool NeedsBlas { get; }

    /// <summary>Whether the network keeps its hidden layers row by row (networks side by side, or a hidden layer wider than
    /// <see cref="FusedKernels.MaximumWidth"/>): its products run as register tiles or on the BLAS, not column by column.</summary>
    public bool Wide { get; }

    /// <summary>The fixed bound of <see cref="LogScaleKind.FixedBound"/>.</summary>
    public double Bound { get; }

    /// <summary>The plan for a coupling of this mask, conditioner and transform, or null when the kernel does not cover it (a
    /// conditioner other than a context-free <see cref="Mlp"/>, or <see cref="ParallelMlp"/> of two networks, with ReLU, tanh or
    /// leaky ReLU; a layer wider than <see cref="FusedKernels.MaximumWidth"/> or networks side by side where libtorch's BLAS cannot
    /// be called; or a transform other than an affine one with the exp or soft-clamp map or the learned tanh bound).</summary>
    public static CouplingPlan? TryCreate(IReadOnlyList<bool> mask, Conditioner conditioner, IElementwiseTransform transform)
    {
        if (conditioner.ContextFeatures != 0 || conditioner.InFeatures == 0) return null;
        (Activation activation, IReadOnlyList<int> hidden, int outFeatures, int parts) network = conditioner switch
        {
            Mlp mlp => (mlp.Activation, mlp.HiddenFeatures, mlp.OutFeatures, 1),
            ParallelMlp { Parts: 2 } parallel when parallel.HiddenFeatures.Count > 0 && Blas.Available =>
                (parallel.Activation, parallel.HiddenFeatures, parallel.PartOutFeatures, 2),
            _ => (Activation.Relu, System.Array.Empty<int>(), 0, 0),
        };
        if (network.parts == 0 || network.activation is not (Activation.Relu or Activation.Tanh or Activation.LeakyRelu)) return null;
        var widths = new List<int> { conditioner.InFeatures };
        widths.AddRange(network.hidden);
        widths.Add(network.outFeatures);
        if (widths.Any(w => w > FusedKernels.MaximumWidth) && !Blas.Available) return null;
        (LogScaleKind kind, double bound) = transform switch
        {
            AffineTransform { ScaleMap: ScaleMap.Exp } => (LogScaleKind.Raw, 0.0),
            AffineTransform { ScaleMap: ScaleMap.SoftClamp } affine => (LogScaleKind.FixedBound, affine.Bound),
            TanhBoundedAffineTransform => (LogScaleKind.LearnedBound, 0.0),
            _ => ((LogScaleKind)(-1), 0.0),
        };
        if (!System.Enum.IsDefined(kind)) return null;
        var pass = Enumerable.Range(0, mask.Count).Where(i => !mask[i]).ToArray();
        var moved = Enumerable.Range(0, mask.Count).Where(i => mask[i]).ToArray();
        if (network.parts * network.outFeatures != 2 * moved.Length) return null;
        return new CouplingPlan(mask.Count, pass, moved, widths.ToArray(), network.parts, network.activation, kind, bound);
    }
}
