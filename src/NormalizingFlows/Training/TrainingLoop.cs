using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using TorchSharp;
using NormalizingFlows.Internal;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// The optimisation loop shared by every fit: learning-rate schedule, skipping of non-finite steps, gradient clipping,
/// validation with early stopping and restore-best, progress reports and cancellation. What a step minimises comes from
/// the caller (<see cref="StepLoss"/>).
/// </summary>
internal sealed class TrainingLoop : IDisposable
{
    /// <summary>Computes one step's loss inside the step's dispose scope: the objective to differentiate and the value to
    /// report (may be the same tensor).</summary>
    public delegate (Tensor Objective, Tensor Reported) StepLoss(Generator generator, int iteration);

    private readonly Distribution model;
    private readonly FitOptions options;
    private readonly int iterations;
    private readonly int stepsPerEpoch;
    private readonly StepLoss stepLoss;
    private readonly ValidationSet? validation;
    private readonly RowBatches? rows;
    private readonly string? objective;
    private readonly int validationInterval;
    private readonly Generator generator;
    private readonly FlatAdam optimizer;
    private readonly List<double> losses;
    private readonly List<ValidationPoint> validationLosses = new();
    private Dictionary<string, Tensor>? bestState;
    private ValidationPoint best = new(0, double.NaN);
    private int skipped;
    private int consecutiveSkipped;
    private int sinceImprovement;
    private double lastLoss = double.NaN;
    private int resumedAt;

    /// <param name="model">The model; its parameters are trained in place.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="iterations">Steps in the whole fit.</param>
    /// <param name="stepsPerEpoch">Steps per pass over in-memory data; 0 when there are no epochs.</param>
    /// <param name="stepLoss">What each step minimises.</param>
    /// <param name="validation">Held-out rows, or null; the loop owns and disposes it.</param>
    /// <param name="rows">The minibatch source of an in-memory fit (its order is part of a checkpoint), or null.</param>
    /// <param name="objective">The name of what the steps minimise when it is not the default of the fit (e.g. flow matching): part
    /// of a checkpoint's settings, so that a checkpoint resumes only under the same objective; null for the default.</param>
    public TrainingLoop(Distribution model, FitOptions options, int iterations, int stepsPerEpoch, StepLoss stepLoss, ValidationSet? validation,
        RowBatches? rows = null, string? objective = null)
    {
        var parameters = model.parameters().ToArray();
        if (parameters.Length == 0) throw new ArgumentException("The model has no trainable parameters.", nameof(model));
        if (!FlatAdam.Supports(parameters))
            throw new ArgumentException("All trainable parameters must share one floating-point dtype and one device; move the model with .to(...) first.", nameof(model));
        this.model = model;
        this.options = options;
        this.iterations = iterations;
        this.stepsPerEpoch = stepsPerEpoch;
        this.stepLoss = stepLoss;
        this.validation = validation;
        this.rows = rows;
        this.objective = objective;
        validationInterval = options.ValidationInterval ?? (stepsPerEpoch > 0 ? stepsPerEpoch : 100);
        generator = new Generator((ulong)options.Seed);
        optimizer = new FlatAdam(parameters, options.LearningRate, options.WeightDecay, decoupled: options.Optimizer == OptimizerKind.AdamW);
        losses = new List<double>(iterations);
    }

    /// <summary>Generator that draws the training data; the caller may use it before the first step (e.g. for a split).</summary>
    public Generator Generator => generator;

    /// <summary>Runs the remaining steps and returns what was done.</summary>
    /// <exception cref="FitFailedException">Too many non-finite steps in a row.</exception>
    public FitResult Run(IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (options.ResumeFrom is { } resumeFrom) Resume(resumeFrom);
        // A first checkpoint before any step: a model that cannot be saved fails now, not after hours of training.
        SaveCheckpoint();
        var clock = Stopwatch.StartNew();
        bool cancelled = false, stoppedEarly = false;
        double validationLoss = validationLosses.Count > 0 ? validationLosses[^1].Loss : double.NaN;
        model.train();
        using var stepThreads = StepThreads.Enter(model, options.BatchSize, options.SmallStepsOnOneThread);
        try
        {
            for (int i = losses.Count; i < iterations; i++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }
                double learningRate = options.LearningRateAt(i, iterations);
                Step(i, learningRate);
                if (consecutiveSkipped >= options.MaxConsecutiveSkippedSteps)
                {
                    SaveCheckpoint();
                    bool restored = RestoreBest();
                    var partial = Result(clock.Elapsed, cancelled: false, stoppedEarly: false, restored);
                    throw new FitFailedException(
                        $"The fit stopped at iteration {i + 1}: {consecutiveSkipped} steps in a row had a non-finite loss or gradient " +
                        $"(MaxConsecutiveSkippedSteps = {options.MaxConsecutiveSkippedSteps}). The model keeps the parameters of " +
                        (restored ? $"its best validation loss (iteration {best.Iteration})" : "its last good step") +
                        ". Lower the learning rate, clip the gradient norm (ClipGradientNorm), or look for outliers in the data.", partial);
                }
                int done = i + 1;
                if (validation is not null && (done % validationInterval == 0 || done == iterations))
                {
                    validationLoss = Validate(done);
                    if (options.Patience is { } patience && sinceImprovement >= patience) stoppedEarly = true;
                }
                if (progress is not null && (done % options.ProgressInterval == 0 || done == iterations || stoppedEarly))
                {
                    progress.Report(new TrainingProgress(done, iterations, lastLoss, skipped, clock.Elapsed)
                    {
                        ValidationLoss = validationLoss,
                        LearningRate = learningRate,
                        Epoch = stepsPerEpoch > 0 ? i / stepsPerEpoch + 1 : 0,
                    });
                }
                if (stoppedEarly) break;
                if (options.CheckpointInterval > 0 && done % options.CheckpointInterval == 0 && done != iterations) SaveCheckpoint();
            }
        }
        finally
        {
            model.eval();
        }
        SaveCheckpoint();
        bool restoredBest = RestoreBest();
        return Result(clock.Elapsed, cancelled, stoppedEarly, restoredBest);
    }

    private void Step(int iteration, double learningRate)
    {
        bool stepped = false;
        using (var scope = torch.NewDisposeScope())
        {
            optimizer.ZeroGrad();
            optimizer.LearningRate = learningRate;
            Tensor objective, reported;
            using (Kernels.FusedChainTraining.GradientBuffers(optimizer.GradientBuffers)) (objective, reported) = stepLoss(generator, iteration);
            double objectiveValue = TensorValues.ToDouble(objective);
            double reportedValue = ReferenceEquals(objective, reported) ? objectiveValue : TensorValues.ToDouble(reported);
            losses.Add(reportedValue);
            if (double.IsFinite(objectiveValue) && double.IsFinite(reportedValue))
            {
                objective.backward();
                double norm = optimizer.GradientNorm();
                if (double.IsFinite(norm))
                {
                    if (options.ClipGradientNorm is { } clip && norm > clip) optimizer.ScaleGradients(clip / norm);
                    optimizer.Step();
                    stepped = true;
                    lastLoss = reportedValue;
                }
            }
        }
        if (stepped)
        {
            consecutiveSkipped = 0;
        }
        else
        {
            skipped++;
            consecutiveSkipped++;
        }
    }

    private double Validate(int iteration)
    {
        double loss = validation!.Loss(model);
        validationLosses.Add(new ValidationPoint(iteration, loss));
        bool improved = double.IsFinite(loss) && (double.IsNaN(best.Loss) || loss < best.Loss - options.MinimumImprovement);
        if (improved)
        {
            best = new ValidationPoint(iteration, loss);
            sinceImprovement = 0;
            if (options.RestoreBest) SnapshotBest();
        }
        else
        {
            sinceImprovement++;
        }
        return loss;
    }

    private void SnapshotBest()
    {
        using var noGrad = torch.no_grad();
        if (bestState is null)
        {
            bestState = model.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().clone().DetachFromDisposeScope());
            return;
        }
        foreach (var (name, tensor) in model.state_dict()) bestState[name].copy_(tensor);
    }

    private bool RestoreBest()
    {
        if (bestState is null) return false;
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in model.state_dict()) tensor.copy_(bestState[name]);
        return true;
    }

    private FitResult Result(TimeSpan elapsed, bool cancelled, bool stoppedEarly, bool restoredBest) =>
        new(losses.ToArray(), skipped, elapsed, cancelled)
        {
            Validation = validationLosses.ToArray(),
            Best = best,
            StoppedEarly = stoppedEarly,
            RestoredBest = restoredBest,
            ResumedAt = resumedAt,
            TrainingRows = rows?.TrainingRows ?? 0,
            ValidationRows = validation?.Rows ?? 0,
            FinalValidationLoss = validation?.Loss(model) ?? double.NaN,
        };

    /// <summary>The settings that decide the sequence of steps: a checkpoint resumes only under the same ones.</summary>
    private JsonObject Settings()
    {
        var settings = BaseSettings();
        // Only when set, so that checkpoints written before the option existed still resume.
        if (options.DequantizeColumns is { Count: > 0 } columns)
            settings["dequantizeColumns"] = new JsonArray(columns.Select(c => (JsonNode?)c).ToArray());
        if (objective is not null) settings["objective"] = objective;
        return settings;
    }

    private JsonObject BaseSettings() => new()
    {
        ["seed"] = options.Seed,
        ["iterations"] = iterations,
        ["batchSize"] = options.BatchSize,
        ["stepsPerEpoch"] = stepsPerEpoch,
        ["optimizer"] = options.Optimizer.ToString(),
        ["learningRate"] = options.LearningRate,
        ["weightDecay"] = options.WeightDecay,
        ["parameters"] = model.parameters().Sum(p => p.numel()),
        ["trainingRows"] = rows?.TrainingRows ?? 0,
        ["validationRows"] = validation?.Rows ?? 0,
    };

    /// <summary>Writes a checkpoint of the current state (when the options ask for checkpoints).</summary>
    private void SaveCheckpoint()
    {
        if (options.CheckpointPath is not { } path) return;
        using var scope = torch.NewDisposeScope();
        var (step, first, second) = optimizer.ExportState();
        var tensors = new Dictionary<string, Tensor>
        {
            ["adam.first"] = first,
            ["adam.second"] = second,
            ["generator"] = generator.get_state(),
        };
        rows?.ExportState(tensors);
        if (bestState is not null)
            foreach (var (name, tensor) in bestState) tensors["best/" + name] = tensor.alias();
        var checkpoint = new TrainingCheckpoint
        {
            Settings = Settings(),
            Iteration = losses.Count,
            Losses = losses.ToArray(),
            Validation = validationLosses.ToArray(),
            Best = best,
            Skipped = skipped,
            ConsecutiveSkipped = consecutiveSkipped,
            SinceImprovement = sinceImprovement,
            LastLoss = lastLoss,
            OptimizerStep = step,
            Tensors = tensors,
        };
        checkpoint.Save(path, model);
    }

    /// <summary>Restores the state of a checkpoint: weights, optimizer, generator, minibatch order, histories, best state.</summary>
    private void Resume(string path)
    {
        using var checkpoint = TrainingCheckpoint.Load(path, model);
        checkpoint.RequireSameSettings(path, Settings());
        var tensors = checkpoint.Tensors;
        optimizer.ImportState(checkpoint.OptimizerStep, tensors["adam.first"], tensors["adam.second"]);
        generator.set_state(tensors["generator"]);
        rows?.ImportState(tensors);
        losses.Clear();
        losses.AddRange(checkpoint.Losses);
        validationLosses.Clear();
        validationLosses.AddRange(checkpoint.Validation);
        best = checkpoint.Best;
        skipped = checkpoint.Skipped;
        consecutiveSkipped = checkpoint.ConsecutiveSkipped;
        sinceImprovement = checkpoint.SinceImprovement;
        lastLoss = checkpoint.LastLoss;
        resumedAt = checkpoint.Iteration;
        var bestTensors = tensors.Where(e => e.Key.StartsWith("best/", StringComparison.Ordinal)).ToArray();
        if (bestTensors.Length > 0)
        {
            using var noGrad = torch.no_grad();
            bestState = bestTensors.ToDictionary(e => e.Key["best/".Length..], e => e.Value.to(ModuleTensors.Placement(model).Device).clone().DetachFromDisposeScope());
        }
    }

    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
        validation?.Dispose();
        if (bestState is not null)
            foreach (var tensor in bestState.Values) tensor.Dispose();
    }
}
