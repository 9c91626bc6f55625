namespace NormalizingFlows.Training;

/// <summary>A validation loss: the mean negative log-likelihood of the validation rows after <paramref name="Iteration"/> steps.</summary>
/// <param name="Iteration">Steps done when it was computed.</param>
/// <param name="Loss">Mean negative log-likelihood of the validation set, in nats (infinite when a row has zero density).</param>
public readonly record struct ValidationPoint(int Iteration, double Loss);
