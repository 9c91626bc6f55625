using System;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// How large the pieces are in which a flow evaluates and samples without gradients (<see cref="Flow.EvaluationChunkRows"/>):
/// the policy, its constants and the sizes it gives, given the flow's plan (<see cref="FusionPlan.FusedPieces"/>).
/// </summary>
internal static class EvaluationPieces
{
    /// <summary>Activations per piece (one layer's output for the rows of a piece: 4 MiB of float32) that the automatic size aims
    /// at; the best of the sizes measured on 64-wide flows (docs/benchmarks.md).</summary>
    public const long AutomaticElements = 1_048_576;

    /// <summary>Values of the event per piece (16 MiB of float32) when every layer runs in a block chain (or is a fixed elementwise
    /// map): such layers keep nothing per layer, so pieces only bound the base distribution's temporaries, and fewer pieces save
    /// a round of the threads each.</summary>
    public const long FusedElements = 4_194_304;

    /// <summary>The automatic piece never has fewer rows than this: below it, the per-call cost of each layer outweighs the cache
    /// benefit.</summary>
    public const long MinimumRows = 4096;

    /// <summary>
    /// Rows per piece for a call on <paramref name="rows"/> rows: all of them with gradients or in training mode
    /// (<paramref name="whole"/>) or, with the automatic size, when they are at most <see cref="MinimumRows"/>; the user's
    /// <paramref name="requested"/> size when set; <see cref="FusedElements"/> values of the event each where the plan
    /// (<paramref name="plan"/>, asked only here) says so; else <paramref name="automatic"/>.
    /// </summary>
    public static long Rows(long rows, long requested, Func<bool> whole, Func<FusionPlan> plan, long eventSize, Func<long> automatic)
    {
        if ((rows <= MinimumRows && requested == 0) || whole()) return rows;
        if (requested > 0) return requested;
        return plan().PieceRows(eventSize) ?? automatic();
    }

    /// <summary><see cref="AutomaticElements"/> divided by the widest layer output of <paramref name="flow"/>: the largest output
    /// dimension of every weight matrix (of all networks together for a stack of them, <c>[parts, out, in]</c>), and for a
    /// convolution its output channels times the event's spatial size; at least <see cref="MinimumRows"/>.</summary>
    public static long AutomaticRows(Flow flow)
    {
        long eventSize = flow.EventSize;
        long spatial = flow.EventShape.Count >= 2 ? eventSize / flow.EventShape[0] : 1;
        long widest = eventSize;
        foreach (var parameter in flow.parameters())
        {
            if (parameter.dim() == 2) widest = Math.Max(widest, parameter.size(0));
            else if (parameter.dim() == 3) widest = Math.Max(widest, parameter.size(0) * parameter.size(1)); // networks side by side (ParallelMlp)
            else if (parameter.dim() == 4) widest = Math.Max(widest, parameter.size(0) * spatial);
        }
        return Math.Max(MinimumRows, AutomaticElements / Math.Max(1, widest));
    }
}
