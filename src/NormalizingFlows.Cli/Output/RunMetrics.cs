using System.Text.Json.Serialization;

namespace NormalizingFlows.Cli.Output;

/// <summary>What a demo run measured, written as metrics.json with snake_case names.</summary>
internal sealed record RunMetrics
{
    /// <summary>Target name, e.g. <c>uniform-normal</c>.</summary>
    public required string Target { get; init; }

    /// <summary>Demo name (the tutorial, e.g. <c>leaky-coupling</c>, or the target's name).</summary>
    public required string Demo { get; init; }

    /// <summary>The flow and its hyperparameters.</summary>
    public required string Flow { get; init; }

    /// <summary>Number of trainable scalars.</summary>
    public required long FlowParameters { get; init; }

    /// <summary>Training steps asked for.</summary>
    public required int Iterations { get; init; }

    /// <summary>Training steps run (fewer than <see cref="Iterations"/> only when interrupted).</summary>
    public required int CompletedIterations { get; init; }

    /// <summary>Rows per step.</summary>
    public required int Batch { get; init; }

    /// <summary>Seed of the initial weights and the training samples.</summary>
    public required long Seed { get; init; }

    /// <summary>Seed of the evaluation samples.</summary>
    public required long EvalSeed { get; init; }

    /// <summary>The optimizer.</summary>
    public required string Optimizer { get; init; }

    /// <summary>Learning rate.</summary>
    public required double LearningRate { get; init; }

    /// <summary>How the learning rate changed over the steps ("constant", "cosine to 1 % of the rate").</summary>
    public required string Schedule { get; init; }

    /// <summary>Weight decay.</summary>
    public required double WeightDecay { get; init; }

    /// <summary>Steps skipped because their loss was not finite.</summary>
    public required int SkippedSteps { get; init; }

    /// <summary>Wall-clock seconds of training.</summary>
    public required double TrainSeconds { get; init; }

    /// <summary>Completed steps per second of training.</summary>
    public required double IterationsPerSecond { get; init; }

    /// <summary>Loss (mean negative log-likelihood of the batch) of the last finite step, in nats.</summary>
    public required double FinalLoss { get; init; }

    /// <summary>Mean negative log-likelihood of fresh target samples under the trained flow, in nats.</summary>
    public required double TestNll { get; init; }

    /// <summary>KL(p || q) in nats, estimated on the same fresh samples.</summary>
    public required double Kl { get; init; }

    /// <summary>Whether <see cref="TestNll"/>, <see cref="Kl"/> and <see cref="GridIntegral"/> come from exact log-densities
    /// (always, up to <see cref="NormalizingFlows.Diagnostics.ExactEvaluation.MaximumExactFeatures"/> features); false when they
    /// are means of <see cref="EvalRepeats"/> evaluations of a stochastic estimate.</summary>
    public bool Exact { get; init; } = true;

    /// <summary>Evaluations behind <see cref="TestNll"/> and <see cref="Kl"/> (1 when exact).</summary>
    public int EvalRepeats { get; init; } = 1;

    /// <summary>Standard error of <see cref="TestNll"/> over the estimator's randomness; 0 when exact.</summary>
    public double TestNllStandardError { get; init; }

    /// <summary>Standard error of <see cref="Kl"/> over the estimator's randomness; 0 when exact.</summary>
    public double KlStandardError { get; init; }

    /// <summary><see cref="TestNll"/> with its standard error, for printing.</summary>
    [JsonIgnore]
    public NormalizingFlows.Diagnostics.MetricEstimate TestNllEstimate => new(TestNll, TestNllStandardError, Exact, EvalRepeats);

    /// <summary><see cref="Kl"/> with its standard error, for printing.</summary>
    [JsonIgnore]
    public NormalizingFlows.Diagnostics.MetricEstimate KlEstimate => new(Kl, KlStandardError, Exact, EvalRepeats);

    /// <summary>Number of fresh samples behind <see cref="TestNll"/> and <see cref="Kl"/>.</summary>
    public required long EvalSamples { get; init; }

    /// <summary>Wall-clock seconds of the evaluation.</summary>
    public required double EvalSeconds { get; init; }

    /// <summary>Integral of q over <see cref="GridBox"/> (midpoint rule); close to 1 when q is a density that the box covers.</summary>
    public required double GridIntegral { get; init; }

    /// <summary>The box and grid of <see cref="GridIntegral"/>.</summary>
    public required GridBoxJson GridBox { get; init; }

    /// <summary>Whether training was interrupted before <see cref="Iterations"/> steps.</summary>
    public required bool Cancelled { get; init; }

    /// <summary>When the run started (UTC, ISO 8601).</summary>
    public required string StartedUtc { get; init; }
}

/// <summary>The grid integral's box in metrics.json.</summary>
/// <param name="XMin">Lower bound of the first coordinate.</param>
/// <param name="XMax">Upper bound of the first coordinate.</param>
/// <param name="YMin">Lower bound of the second coordinate.</param>
/// <param name="YMax">Upper bound of the second coordinate.</param>
/// <param name="Steps">Midpoints per axis.</param>
internal sealed record GridBoxJson(double XMin, double XMax, double YMin, double YMax, int Steps);

/// <summary>Source-generated System.Text.Json metadata for metrics.json: snake_case names, indented, NaN written as "NaN".</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(RunMetrics))]
internal sealed partial class MetricsJsonContext : JsonSerializerContext
{
}
