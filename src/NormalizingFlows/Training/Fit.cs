using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using NormalizingFlows.Internal;
using NormalizingFlows.Targets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// Training loops. <c>ToData</c> fits a model to samples by maximum likelihood (forward KL): each step
/// minimises <c>-mean(log q(x))</c> over a batch. A step whose loss is NaN or infinite is skipped (no
/// gradient step, parameters untouched) and counted.
/// </summary>
public static class Fit
{
    /// <summary>Fits <paramref name="model"/> to fresh samples drawn from <paramref name="target"/> every step.</summary>
    /// <param name="model">The model to train (its parameters are updated in place).</param>
    /// <param name="target">Where the samples come from.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    public static FitResult ToData(Distribution model, ITarget target, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(model);
        if (target.Features != model.EventSize || model.EventShape.Count != 1)
            throw new ArgumentException($"The target has {target.Features} features but the model's event shape is {Guard.Shape(model.EventShape)}.", nameof(target));
        var (dtype, device) = ModuleTensors.Placement(model);
        return ToData(model, (count, generator) => target.Sample(count, generator, dtype, device), options, progress, cancellationToken);
    }

    /// <summary>Fits <paramref name="model"/> to fresh samples from <paramref name="sampler"/>, called once per step.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="sampler">Given a row count and the fit's generator, returns a new batch <c>[count, ...EventShape]</c> the fit owns.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    public static FitResult ToData(Distribution model, Func<long, Generator, Tensor> sampler, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampler);
        RequireUnconditional(model);
        options ??= new FitOptions();
        options.Validate();
        bool first = true;
        return Run(model, options, progress, cancellationToken, generator =>
        {
            var batch = sampler(options.BatchSize, generator);
            if (first)
            {
                Guard.Batch(batch, model.EventShape, "sampler output");
                first = false;
            }
            return (batch, null);
        });
    }

    /// <summary>Fits a conditional model to fresh <c>(x, context)</c> pairs from <paramref name="sampler"/>, called once per step:
    /// each step minimises <c>-mean(log q(x | context))</c>.</summary>
    /// <param name="model">The conditional model to train (<see cref="Distribution.ContextFeatures"/> &gt; 0).</param>
    /// <param name="sampler">Given a row count and the fit's generator, returns data <c>[count, ...EventShape]</c> and context <c>[count, ContextFeatures]</c>.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    public static FitResult ToData(Distribution model, Func<long, Generator, (Tensor Data, Tensor Context)> sampler, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampler);
        RequireConditional(model);
        options ??= new FitOptions();
        options.Validate();
        bool first = true;
        return Run(model, options, progress, cancellationToken, generator =>
        {
            var (batch, context) = sampler(options.BatchSize, generator);
            if (first)
            {
                Guard.Batch(batch, model.EventShape, "sampler data");
                Guard.Context(context, model.ContextFeatures, batch.shape[0], "sampler context");
                first = false;
            }
            return (batch, context);
        });
    }

    /// <summary>Fits <paramref name="model"/> to an in-memory data set, in shuffled minibatches (epoch after epoch).</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="data">Training rows <c>[rows, ...EventShape]</c>; every value must be finite.</param>
    /// <param name="options">Settings; null for the defaults. A batch size above the row count uses all rows.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    /// <exception cref="ArgumentException">The data has the wrong shape, no rows, or a non-finite value (the message names the row).</exception>
    public static FitResult ToData(Distribution model, Tensor data, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireUnconditional(model);
        return FitRows(model, data, null, options, progress, cancellationToken);
    }

    /// <summary>Fits a conditional model to in-memory rows and their contexts, in shuffled minibatches (epoch after epoch).</summary>
    /// <param name="model">The conditional model to train (<see cref="Distribution.ContextFeatures"/> &gt; 0).</param>
    /// <param name="data">Training rows <c>[rows, ...EventShape]</c>; every value must be finite.</param>
    /// <param name="context">One context row per data row, <c>[rows, ContextFeatures]</c>; every value must be finite.</param>
    /// <param name="options">Settings; null for the defaults. A batch size above the row count uses all rows.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    /// <exception cref="ArgumentException">A shape is wrong, there are no rows, or a value is not finite (the message names the row).</exception>
    public static FitResult ToData(Distribution model, Tensor data, Tensor context, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireConditional(model);
        return FitRows(model, data, context, options, progress, cancellationToken);
    }

    private static FitResult FitRows(Distribution model, Tensor data, Tensor? context, FitOptions? options,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        Guard.Batch(data, model.EventShape, nameof(data));
        Guard.Finite(data, nameof(data));
        if (context is not null)
        {
            Guard.Context(context, model.ContextFeatures, data.shape[0], nameof(context));
            Guard.Finite(context, nameof(context));
        }
        options ??= new FitOptions();
        options.Validate();
        long rows = data.shape[0];
        long batchSize = Math.Min(options.BatchSize, rows);
        Tensor? order = null;
        long position = rows;
        try
        {
            return Run(model, options, progress, cancellationToken, generator =>
            {
                if (position + batchSize > rows)
                {
                    order?.Dispose();
                    order = torch.randperm(rows, ScalarType.Int64, generator: generator).to(data.device).DetachFromDisposeScope();
                    position = 0;
                }
                var rowsOfBatch = order!.narrow(0, position, batchSize);
                position += batchSize;
                return (data.index_select(0, rowsOfBatch), context?.index_select(0, rowsOfBatch));
            });
        }
        finally
        {
            order?.Dispose();
        }
    }

    private static FitResult Run(Distribution model, FitOptions options, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken, Func<Generator, (Tensor Data, Tensor? Context)> nextBatch)
    {
        var parameters = model.parameters().ToArray();
        if (parameters.Length == 0) throw new ArgumentException("The model has no trainable parameters.", nameof(model));
        if (!FlatAdam.Supports(parameters))
            throw new ArgumentException("All trainable parameters must share one floating-point dtype and one device; move the model with .to(...) first.", nameof(model));
        using var generator = new Generator((ulong)options.Seed);
        using var optimizer = new FlatAdam(parameters, options.LearningRate, options.WeightDecay, decoupled: options.Optimizer == OptimizerKind.AdamW);
        var losses = new List<double>(options.Iterations);
        int skipped = 0;
        double lastLoss = double.NaN;
        var clock = Stopwatch.StartNew();
        bool cancelled = false;
        model.train();
        for (int i = 0; i < options.Iterations; i++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                cancelled = true;
                break;
            }
            using (var scope = torch.NewDisposeScope())
            {
                optimizer.ZeroGrad();
                var (batch, context) = nextBatch(generator);
                var loss = model.LogProbCore(batch, context).mean().neg();
                double value = loss.ToDouble();
                losses.Add(value);
                if (double.IsFinite(value))
                {
                    loss.backward();
                    optimizer.Step();
                    lastLoss = value;
                }
                else
                {
                    skipped++;
                }
            }
            if (progress is not null && ((i + 1) % options.ProgressInterval == 0 || i + 1 == options.Iterations))
                progress.Report(new TrainingProgress(i + 1, options.Iterations, lastLoss, skipped, clock.Elapsed));
        }
        model.eval();
        return new FitResult(losses, skipped, clock.Elapsed, cancelled);
    }

    private static void RequireUnconditional(Distribution model)
    {
        if (model.ContextFeatures != 0)
            throw new ArgumentException(
                $"The model takes a context of {model.ContextFeatures} features; pass context rows with the data (the overloads that take a context).", nameof(model));
    }

    private static void RequireConditional(Distribution model)
    {
        if (model.ContextFeatures == 0)
            throw new ArgumentException("The model takes no context; use the overloads without one.", nameof(model));
    }

}
