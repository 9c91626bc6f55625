using System;
using System.Collections.Generic;
using NormalizingFlows.Training;

namespace NormalizingFlows.Cli.Rendering;

/// <summary>
/// Sits between a fit that reports every step and the progress view: keeps each step's loss (NaN for a skipped step), so that a
/// run whose training ends in an unexpected error can still write the losses so far, and passes on only every
/// <c>interval</c>-th report (and the last one, see <see cref="Flush"/>), as the view expects.
/// </summary>
internal sealed class LossRecorder(IProgress<TrainingProgress> inner, int interval) : IProgress<TrainingProgress>
{
    private readonly List<(int Iteration, double Loss)> losses = new();
    private TrainingProgress? pending;
    private int skipped = -1;

    /// <summary>The loss of every step reported so far, by 1-based iteration (after a resume, from the first resumed step).</summary>
    public IReadOnlyList<(int Iteration, double Loss)> Losses => losses;

    /// <inheritdoc/>
    public void Report(TrainingProgress value)
    {
        bool skippedNow = skipped >= 0 && value.SkippedSteps > skipped;
        skipped = value.SkippedSteps;
        losses.Add((value.Iteration, skippedNow ? double.NaN : value.Loss));
        if (value.Iteration % interval == 0 || value.Iteration == value.Iterations)
        {
            pending = null;
            inner.Report(value);
        }
        else
        {
            pending = value;
        }
    }

    /// <summary>Passes on the last report if it was held back (a fit that stopped between two reports).</summary>
    public void Flush()
    {
        if (pending is { } last) inner.Report(last);
        pending = null;
    }
}
