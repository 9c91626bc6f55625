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
/// <see cref="Mlp"/> (input, hidden..., output), the activation and the log-scale map. Holds no tensors (parameters are read at
/// each call, so <c>to(device)</c> and <c>to(dtype)</c> stay safe).
/// </summary>
internal sealed class CouplingPlan
{
    private CouplingPlan(int features, int[] pass, int[] moved, int[] widths, Activation activation, LogScaleKind logScale, double bound)
    {
        Features = features;
        Pass = pass;
        Moved = moved;
        Widths = widths;
        Activation = activation;
        LogScale = logScale;
        Bound = bound;
    }

    /// <summary>Features of the event.</summary>
    public int Features { get; }

    /// <summary>Columns that pass through, in the order the network sees them.</summary>
    public int[] Pass { get; }

    /// <summary>Columns that the affine map moves, in the order of the network's parameters.</summary>
    public int[] Moved { get; }

    /// <summary>Widths of the network: input, hidden layers, output (<c>2 * Moved.Length</c>).</summary>
    public int[] Widths { get; }

    /// <summary>Number of linear layers.</summary>
    public int Layers => Widths.Length - 1;

    /// <summary>The hidden activation.</summary>
    public Activation Activation { get; }

    /// <summary>The log-scale map.</summary>
    public LogScaleKind LogScale { get; }

    /// <summary>The fixed bound of <see cref="LogScaleKind.FixedBound"/>.</summary>
    public double Bound { get; }

    /// <summary>The plan for a coupling of this mask, conditioner and transform, or null when the kernel does not cover it (a
    /// conditioner other than a context-free <see cref="Mlp"/> with ReLU, tanh or leaky ReLU, a layer wider than
    /// <see cref="FusedKernels.MaximumWidth"/>, or a transform other than an affine one with the exp or soft-clamp map or the
    /// learned tanh bound).</summary>
    public static CouplingPlan? TryCreate(IReadOnlyList<bool> mask, Conditioner conditioner, IElementwiseTransform transform)
    {
        if (conditioner is not Mlp mlp || mlp.ContextFeatures != 0 || mlp.InFeatures == 0) return null;
        if (mlp.Activation is not (Activation.Relu or Activation.Tanh or Activation.LeakyRelu)) return null;
        var widths = new List<int> { mlp.InFeatures };
        widths.AddRange(mlp.HiddenFeatures);
        widths.Add(mlp.OutFeatures);
        if (widths.Any(w => w > FusedKernels.MaximumWidth)) return null;
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
        return new CouplingPlan(mask.Count, pass, moved, widths.ToArray(), mlp.Activation, kind, bound);
    }
}
