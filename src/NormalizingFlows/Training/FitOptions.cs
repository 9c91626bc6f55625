using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>Settings of a fit. Defaults are those of the first source tutorial (Adam, learning rate 1e-3, 1000 steps of 512 rows).</summary>
public sealed record FitOptions
{
    /// <summary>Number of optimisation steps (skipped steps included). Ignored when <see cref="Epochs"/> is set.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>For fits to an in-memory data set: the number of passes over the training rows; null to use
    /// <see cref="Iterations"/>. One epoch is <c>max(1, rows / BatchSize)</c> steps (the last partial batch of each
    /// shuffled pass is dropped).</summary>
    public int? Epochs { get; init; }

    /// <summary>Rows per step (samples per step for a fit to a density).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>How the learning rate changes after the warm-up; null or <see cref="LearningRateSchedule.Constant"/> for a constant rate.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Steps of linear warm-up from <c>LearningRate / WarmupIterations</c> to <see cref="LearningRate"/>; 0 for none.</summary>
    public int WarmupIterations { get; init; }

    /// <summary>Weight decay (an L2 penalty for Adam, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; }

    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Largest Euclidean norm of the whole gradient; a larger gradient is scaled down to it. Null for no clipping.</summary>
    public double? ClipGradientNorm { get; init; }

    /// <summary>A step whose loss or gradient is NaN or infinite is skipped (parameters untouched) and counted; this many
    /// skipped steps in a row stop the fit with a <see cref="FitFailedException"/>.</summary>
    public int MaxConsecutiveSkippedSteps { get; init; } = 50;

    /// <summary>Seed of the generator that draws the training data (fresh samples or minibatch order) and the validation split.</summary>
    public long Seed { get; init; }

    /// <summary>Report progress every this many iterations (and at the last one).</summary>
    public int ProgressInterval { get; init; } = 10;

    /// <summary>For fits to an in-memory data set: the fraction of rows held out (chosen with <see cref="Seed"/>) to compute a
    /// validation loss; 0 for none.</summary>
    public double ValidationFraction { get; init; }

    /// <summary>
    /// For fits to in-memory data of shape <c>[rows, columns]</c>: columns holding integers (counts, levels, indicators) to which
    /// fresh uniform noise <c>u ~ U[0, 1)</c> is added at every step (uniform dequantisation, see
    /// <see cref="Data.DiscreteColumns"/>), drawn from the fit's generator; the validation rows get one fixed draw (a generator
    /// seeded <c>Seed + 1</c>), so that their loss is comparable from step to step. The model then fits, and its losses
    /// measure, a density of the dequantised data. For noise of another kind (image levels scaled to [0, 1), other cell widths)
    /// use <see cref="BatchTransform"/>; with both, this noise is added first. Null or empty for none.
    /// </summary>
    public System.Collections.Generic.IReadOnlyList<int>? DequantizeColumns { get; init; }

    /// <summary>For fits to a sampler or target: rows drawn once, before training, as a fixed validation set; 0 for none.</summary>
    public int ValidationSize { get; init; }

    /// <summary>For fits to in-memory data: a transform applied to every training batch before its loss, given the batch and the
    /// fit's generator, returning a new tensor of the batch's shape, dtype and device (e.g. fresh dequantisation noise every step:
    /// <c>(x, g) =&gt; Dequantization.Uniform(x, 17, g)</c>, so that the model never sees the same noise twice). The validation rows
    /// get it once, before training, with a generator seeded <c>Seed + 1</c>, so that every validation loss is computed on the same
    /// values. For a resumed fit to continue exactly, it must draw its randomness from the generator it is given. Null for none.</summary>
    public Func<Tensor, Generator, Tensor>? BatchTransform { get; init; }

    /// <summary>Steps between two validation losses; null for once per epoch (in-memory data) or every 100 steps (sampler).</summary>
    public int? ValidationInterval { get; init; }

    /// <summary>Early stopping: stop after this many validation losses in a row without an improvement of more than
    /// <see cref="MinimumImprovement"/>; null never stops early. Needs a validation set.</summary>
    public int? Patience { get; init; }

    /// <summary>Smallest decrease of the validation loss that counts as an improvement, in nats.</summary>
    public double MinimumImprovement { get; init; }

    /// <summary>Run the fit's steps (and its validations) on one of libtorch's threads when every layer's work per step is small
    /// (at most 2^24 multiply-adds: batch 4096 through a 64 x 64 layer) and the model is on the CPU; the caller's thread count
    /// is back when the fit returns. Measured on 2 cores at batch 512: 1.1-2x faster steps than on two threads, whose wake-ups
    /// cost more than such operations gain from them. A chain that trains as one fused autograd node still runs its parts on the
    /// caller's threads (they wake twice per step, not once per operation). False keeps the caller's count throughout.</summary>
    public bool SmallStepsOnOneThread { get; init; } = true;

    /// <summary>When there is a validation set: at the end of the fit (completed, stopped early or cancelled), put back the
    /// parameters and buffers of the step with the best validation loss.</summary>
    public bool RestoreBest { get; init; } = true;

    /// <summary>Where to write a training checkpoint (a model file with the optimizer and trainer state; it also loads with
    /// <see cref="Flow.Load"/>): every <see cref="CheckpointInterval"/> steps and when the fit ends (completed, stopped early,
    /// cancelled or failed). Written atomically. Null for none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Steps between two checkpoints; 0 writes one only when the fit ends. Needs <see cref="CheckpointPath"/>.</summary>
    public int CheckpointInterval { get; init; }

    /// <summary>A checkpoint to continue from: its weights, optimizer state, data order and histories are restored, and the fit
    /// runs the remaining steps, ending with the same parameters as an uninterrupted fit. The model must have the same
    /// architecture, and the options and data the same settings (a mismatch is an <see cref="ArgumentException"/> naming it).</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Checks every option; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    public void Validate()
    {
        Guard.Positive(Iterations, nameof(Iterations));
        if (Epochs is { } epochs) Guard.Positive(epochs, nameof(Epochs));
        Guard.Positive(BatchSize, nameof(BatchSize));
        Guard.Positive(LearningRate, nameof(LearningRate));
        Guard.NonNegative(WeightDecay, nameof(WeightDecay));
        Guard.NonNegative(WarmupIterations, nameof(WarmupIterations));
        Guard.Positive(ProgressInterval, nameof(ProgressInterval));
        Guard.Positive(MaxConsecutiveSkippedSteps, nameof(MaxConsecutiveSkippedSteps));
        if (ClipGradientNorm is { } clip) Guard.Positive(clip, nameof(ClipGradientNorm));
        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, $"ValidationFraction must be in [0, 1); got {ValidationFraction}.");
        Guard.NonNegative(ValidationSize, nameof(ValidationSize));
        if (DequantizeColumns is { } dequantize)
            for (int i = 0; i < dequantize.Count; i++)
                if (dequantize[i] < 0 || System.Linq.Enumerable.Count(dequantize, c => c == dequantize[i]) > 1)
                    throw new ArgumentOutOfRangeException(nameof(DequantizeColumns), dequantize[i],
                        $"DequantizeColumns must hold distinct column indices of at least 0; got {dequantize[i]} at position {i}.");
        if (ValidationInterval is { } interval) Guard.Positive(interval, nameof(ValidationInterval));
        if (Patience is { } patience) Guard.Positive(patience, nameof(Patience));
        Guard.NonNegative(MinimumImprovement, nameof(MinimumImprovement));
        Guard.NonNegative(CheckpointInterval, nameof(CheckpointInterval));
        if (CheckpointInterval > 0 && CheckpointPath is null)
            throw new ArgumentOutOfRangeException(nameof(CheckpointInterval), CheckpointInterval, "CheckpointInterval needs a CheckpointPath.");
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, $"Unknown optimizer {Optimizer}.");
    }

    internal double LearningRateAt(int iteration, int iterations)
    {
        if (iteration < WarmupIterations) return LearningRate * (iteration + 1) / WarmupIterations;
        var schedule = Schedule ?? LearningRateSchedule.Constant;
        return LearningRate * schedule.Factor(iteration - WarmupIterations, Math.Max(1, iterations - WarmupIterations));
    }
}
