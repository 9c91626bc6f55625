namespace NormalizingFlows.Plotting;

/// <summary>The learned density recorded at one point of a fit.</summary>
/// <param name="Iteration">Training steps done when it was recorded (0 = the untrained model).</param>
/// <param name="Density">The model's density on the snapshot grid.</param>
public sealed record DensitySnapshot(int Iteration, DensityGrid Density);
