using System;
using System.Collections.Generic;

namespace NormalizingFlows.Training;

/// <summary>What a fit did.</summary>
/// <param name="Losses">Loss of every step in order (NaN or infinity where a step was skipped).</param>
/// <param name="SkippedSteps">Steps skipped because their loss was not finite; their parameters were left as they were.</param>
/// <param name="Elapsed">Wall-clock time of the fit.</param>
/// <param name="Cancelled">Whether the fit stopped early because cancellation was requested.</param>
public sealed record FitResult(IReadOnlyList<double> Losses, int SkippedSteps, TimeSpan Elapsed, bool Cancelled)
{
    /// <summary>Number of steps run.</summary>
    public int Iterations => Losses.Count;

    /// <summary>Loss of the last finite step (NaN if none was finite).</summary>
    public double FinalLoss
    {
        get
        {
            for (int i = Losses.Count - 1; i >= 0; i--)
                if (double.IsFinite(Losses[i])) return Losses[i];
            return double.NaN;
        }
    }
}
