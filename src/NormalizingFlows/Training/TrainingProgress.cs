using System;

namespace NormalizingFlows.Training;

/// <summary>A progress report during a fit.</summary>
/// <param name="Iteration">Steps done so far (1-based).</param>
/// <param name="Iterations">Steps in the whole fit.</param>
/// <param name="Loss">Loss of the latest finite step (NaN before the first).</param>
/// <param name="SkippedSteps">Steps skipped so far because their loss was not finite.</param>
/// <param name="Elapsed">Time since the fit started.</param>
public readonly record struct TrainingProgress(int Iteration, int Iterations, double Loss, int SkippedSteps, TimeSpan Elapsed);
