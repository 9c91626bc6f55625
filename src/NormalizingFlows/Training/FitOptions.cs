using System;
using NormalizingFlows.Internal;

namespace NormalizingFlows.Training;

/// <summary>Settings of a maximum-likelihood fit. Defaults are those of the first source tutorial.</summary>
public sealed record FitOptions
{
    /// <summary>Number of optimisation steps (skipped steps included).</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Rows per step.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Weight decay (an L2 penalty for Adam, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; }

    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Seed of the generator that draws the training data (fresh samples or minibatch order).</summary>
    public long Seed { get; init; }

    /// <summary>Report progress every this many iterations (and at the last one).</summary>
    public int ProgressInterval { get; init; } = 10;

    /// <summary>Checks every option; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    public void Validate()
    {
        Guard.Positive(Iterations, nameof(Iterations));
        Guard.Positive(BatchSize, nameof(BatchSize));
        Guard.Positive(LearningRate, nameof(LearningRate));
        Guard.NonNegative(WeightDecay, nameof(WeightDecay));
        Guard.Positive(ProgressInterval, nameof(ProgressInterval));
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, $"Unknown optimizer {Optimizer}.");
    }
}
