namespace NormalizingFlows.Cli.Variational;

/// <summary>A <c>fit-target</c> run's settings after parsing and validation.</summary>
/// <param name="Target">Catalogue name of the target density.</param>
/// <param name="Flow">Catalogue name of the flow.</param>
/// <param name="Layers">Layers of the flow; null for the preset's default.</param>
/// <param name="Hidden">Hidden widths; null for the preset's default.</param>
/// <param name="Iterations">Training steps.</param>
/// <param name="BatchSize">Samples of the flow per step.</param>
/// <param name="LearningRate">Peak learning rate (cosine schedule down to 1 % of it).</param>
/// <param name="AnnealingIterations">Steps over which beta rises from <paramref name="InitialBeta"/> to 1; 0 for none.</param>
/// <param name="InitialBeta">Starting beta of the annealing.</param>
/// <param name="PathDerivative">Use the sticking-the-landing gradient.</param>
/// <param name="Seed">Seed of the initial weights and of the flow's samples.</param>
/// <param name="EvalSamples">Samples for the importance-sampling diagnostics.</param>
/// <param name="OutputDirectory">Where the files go; null for <c>./runs/fit-&lt;target&gt;-&lt;timestamp&gt;</c>.</param>
/// <param name="Command">The command line that reproduces the run.</param>
internal sealed record FitTargetSettings(
    string Target, string Flow, int? Layers, int[]? Hidden, int Iterations, int BatchSize, double LearningRate,
    int AnnealingIterations, double InitialBeta, bool PathDerivative, long Seed, long EvalSamples, string? OutputDirectory, string Command);
