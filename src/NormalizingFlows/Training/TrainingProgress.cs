using System;

namespace NormalizingFlows.Training;

/// <summary>A progress report during a fit.</summary>
/// <param name="Iteration">Steps done so far (1-based).</param>
/// <param name="Iterations">Steps in the whole fit (a fit that stops early ends before).</param>
/// <param name="Loss">Loss of the latest finite step (NaN before the first).</param>
/// <param name="SkippedSteps">Steps skipped so far because their loss or gradient was not finite.</param>
/// <param name="Elapsed">Time since the fit started.</param>
public readonly record struct TrainingProgress(int Iteration, int Iterations, double Loss, int SkippedSteps, TimeSpan Elapsed)
{
    /// <summary>The latest validation loss; NaN when there is no validation set or none was computed yet.</summary>
    public double ValidationLoss { get; init; } = double.NaN;

    /// <summary>Learning rate of the latest step.</summary>
    public double LearningRate { get; init; } = double.NaN;

    /// <summary>For fits to in-memory data: the epoch in progress (1-based); 0 otherwise.</summary>
    public int Epoch { get; init; }
}
