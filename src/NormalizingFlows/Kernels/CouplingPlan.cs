using System.Linq;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Runtime;

namespace NormalizingFlows.Kernels;

/// <summary>How a fused coupling turns the raw network output into the log-scale <c>s</c>.</summary>
internal enum LogScaleKind
{
    /// <summary><c>s = u</c> (<see cref="Transforms.ScaleMap.Exp"/>).</summary>
    Raw,
    /// <summary><c>s = B tanh(u / B)</c> with a fixed bound (<see cref="Transforms.ScaleMap.SoftClamp"/>).</summary>
    FixedBound,
    /// <summary><c>s = c tanh(u / c)</c>, <c>c = exp(l)</c> trained (<see cref="Transforms.TanhBoundedAffineTransform"/>).</summary>
    LearnedBound,
}

/// <summary>
/// The shape of a coupling that the fused kernel runs, as the planner (<see cref="FusionPlanner"/>) made it: which features the
/// network reads, which pass through and which move, the widths of its network or of each of its networks side by side (input, hidden..., output), the
/// activation, the log-scale map and how the network's products run (<see cref="Operations"/>). Holds no tensors (parameters are
/// read at each call, so <c>to(device)</c> and <c>to(dtype)</c> stay safe). A coupling's network reads exactly the columns that
/// pass through; the density direction of a masked autoregressive layer is the same arithmetic with a network (MADE) that reads
/// every column, no column passing through and every column moving.
/// </summary>
internal sealed class CouplingPlan
{
    internal CouplingPlan(int features, int[] pass, int[] moved, int[] widths, int parts, Activation activation, LogScaleKind logScale, double bound,
        LayerOperations operations, int contextFeatures = 0, int[]? inputs = null)
    {
        ContextFeatures = contextFeatures;
        Inputs = inputs ?? pass;
        FirstOfConsecutiveInputs = Inputs.Length > 0 && Inputs.Select((column, i) => column - i).All(offset => offset == Inputs[0]) ? Inputs[0] : -1;
        MovesEveryColumnInOrder = pass.Length == 0 && moved.Length == features && moved.Select((column, j) => column == j).All(inOrder => inOrder);
        Parts = parts;
        Features = features;
        Pass = pass;
        Moved = moved;
        Widths = widths;
        Activation = activation;
        LogScale = logScale;
        Bound = bound;
        Operations = operations;
        RawWidth = parts * widths[^1];
        Shape = string.Intern($"{string.Join('-', widths)}x{parts}/{moved.Length}{(operations == LayerOperations.Tiles ? "/tiles" : "")}");
    }

    /// <summary>What sizes the work buffers of a block (<see cref="CouplingWork{T}"/>) have, as a key: plans with equal shapes may
    /// share their work. Interned, so equal shapes are the same string.</summary>
    public string Shape { get; }

    /// <summary>Features of the event.</summary>
    public int Features { get; }

    /// <summary>Columns that pass through (copied to the output unchanged).</summary>
    public int[] Pass { get; }

    /// <summary>Columns the network reads, in the order it sees them: a coupling's pass-through columns (the same array as
    /// <see cref="Pass"/>), or every column for a masked autoregressive layer.</summary>
    public int[] Inputs { get; }

    /// <summary>The first of <see cref="Inputs"/> where they are consecutive columns (a masked autoregressive layer's, a
    /// coupling's contiguous half), else -1.</summary>
    public int FirstOfConsecutiveInputs { get; }

    /// <summary>Whether every column moves, the moved columns in their own order and none passing through (a masked autoregressive
    /// layer's density pass): the transform's parameters of a row are then that row's features in order.</summary>
    public bool MovesEveryColumnInOrder { get; }

    /// <summary>Whether the network reads exactly the pass-through columns (a coupling); else it reads moved columns (a masked
    /// autoregressive layer), and the backward pass adds the network's input gradient to theirs.</summary>
    public bool ReadsPassThrough => ReferenceEquals(Inputs, Pass);

    /// <summary>Width of the context the network sees after its input columns (its input is <c>[inputs, context]</c>, as the
    /// conditioner's); 0 for none.</summary>
    public int ContextFeatures { get; }

    /// <summary>Columns that the affine map moves, in the order of the network's parameters.</summary>
    public int[] Moved { get; }

    /// <summary>Widths of each network: input (<see cref="Inputs"/> and context), hidden layers, output
    /// (<c>2 * Moved.Length / Parts</c>).</summary>
    public int[] Widths { get; }

    /// <summary>Number of networks side by side: 1 for one network, 2 for separate shift and log-scale networks (network
    /// <c>p</c>'s output <c>j</c> is raw parameter <c>2 j + p</c>, the layout the kernel reads).</summary>
    public int Parts { get; }

    /// <summary>Raw transform parameters per row: <c>2 * Moved.Length</c>, all networks together.</summary>
    public int RawWidth { get; }

    /// <summary>Number of linear layers.</summary>
    public int Layers => Widths.Length - 1;

    /// <summary>The hidden activation.</summary>
    public Activation Activation { get; }

    /// <summary>The log-scale map.</summary>
    public LogScaleKind LogScale { get; }

    /// <summary>How the network's products run: <see cref="LayerOperations.Columns"/> (column by column, every layer at most
    /// <see cref="FusedKernels.MaximumWidth"/> wide), <see cref="LayerOperations.Tiles"/> (register tiles) or
    /// <see cref="LayerOperations.Blas"/> (the BLAS matrix product on rows kept row by row).</summary>
    public LayerOperations Operations { get; }

    /// <summary>Whether the network keeps its hidden layers row by row (<see cref="LayerOperations.Tiles"/> or
    /// <see cref="LayerOperations.Blas"/>), not column by column.</summary>
    public bool Wide => Operations != LayerOperations.Columns;

    /// <summary>Whether the network runs as register tiles (<see cref="TiledNetwork{T}"/>).</summary>
    public bool Tiled => Operations == LayerOperations.Tiles;

    /// <summary>The fixed bound of <see cref="LogScaleKind.FixedBound"/>.</summary>
    public double Bound { get; }
}
