using System;
using System.Collections.Generic;

namespace NormalizingFlows.Training;

/// <summary>What a fit did.</summary>
/// <param name="Losses">Loss of every step in order (NaN or infinity where a step was skipped).</param>
/// <param name="SkippedSteps">Steps skipped because their loss or gradient was not finite; their parameters were left as they were.</param>
/// <param name="Elapsed">Wall-clock time of the fit.</param>
/// <param name="Cancelled">Whether the fit stopped early because cancellation was requested.</param>
public sealed record FitResult(IReadOnlyList<double> Losses, int SkippedSteps, TimeSpan Elapsed, bool Cancelled)
{
    /// <summary>Number of steps run.</summary>
    public int Iterations => Losses.Count;

    /// <summary>Validation losses in order; empty without a validation set.</summary>
    public IReadOnlyList<ValidationPoint> Validation { get; init; } = Array.Empty<ValidationPoint>();

    /// <summary>The validation loss with the lowest value (NaN loss and iteration 0 without a validation set).</summary>
    public ValidationPoint Best { get; init; } = new(0, double.NaN);

    /// <summary>Whether early stopping ended the fit (<see cref="FitOptions.Patience"/>).</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>Whether the parameters of <see cref="Best"/> were put back at the end (<see cref="FitOptions.RestoreBest"/>).</summary>
    public bool RestoredBest { get; init; }

    /// <summary>Rows the fit trained on (after the validation split); 0 for a fit to a sampler, which draws fresh rows every step.</summary>
    public long TrainingRows { get; init; }

    /// <summary>Rows held out for validation; 0 without a validation set.</summary>
    public long ValidationRows { get; init; }

    /// <summary>The validation loss of the parameters the model holds when the fit returns (after <see cref="RestoredBest"/>, this
    /// is <see cref="Best"/>'s loss evaluated again); NaN without a validation set.</summary>
    public double FinalValidationLoss { get; init; } = double.NaN;

    /// <summary>Steps that were run before this fit resumed from a checkpoint (0 for a fresh fit); <see cref="Losses"/> holds all steps.</summary>
    public int ResumedAt { get; init; }

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
