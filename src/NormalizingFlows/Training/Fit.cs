using System;
using System.Threading;
using NormalizingFlows.Internal;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// Training loops. <c>ToData</c> fits a model to samples by maximum likelihood (forward KL): each step minimises
/// <c>-mean(log q(x))</c> over a batch. <c>ToDensity</c> fits it to an unnormalised log-density without samples (reverse KL,
/// variational inference). Every fit: Adam or AdamW, a learning-rate schedule with warm-up, gradient-norm clipping, steps
/// with a non-finite loss or gradient skipped (parameters untouched) and counted, a <see cref="FitFailedException"/> after
/// too many in a row, progress reports, and a cancellation token that stops cleanly after the current step. Fits to data
/// can hold out a validation set, stop early and put back the best parameters.
/// Everything is reproducible from <see cref="FitOptions.Seed"/>.
/// </summary>
public static partial class Fit
{
    /// <summary>Fits <paramref name="model"/> to fresh samples drawn from <paramref name="target"/> every step.</summary>
    /// <param name="model">The model to train (its parameters are updated in place).</param>
    /// <param name="target">Where the samples come from.</param>
    /// <param name="options">Settings; null for the defaults. <see cref="FitOptions.ValidationSize"/> draws a fixed validation set.</param>
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
    /// <param name="sampler">Given a row count and the fit's generator, returns a new batch <c>[count, ...EventShape]</c> the fit owns.
    /// For a fit that resumes from a checkpoint to continue exactly, it must depend on nothing but its arguments.</param>
    /// <param name="options">Settings; null for the defaults. <see cref="FitOptions.ValidationSize"/> draws a fixed validation set
    /// (with a generator seeded <c>Seed + 1</c>).</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    public static FitResult ToData(Distribution model, Func<long, Generator, Tensor> sampler, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampler);
        RequireUnconditional(model);
        ArgumentNullException.ThrowIfNull(sampler);
        return FitSampler(model, (count, generator) => (sampler(count, generator), null), options, progress, cancellationToken);
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
        return FitSampler(model, (count, generator) => sampler(count, generator), options, progress, cancellationToken);
    }

    /// <summary>Fits <paramref name="model"/> to an in-memory data set, in shuffled minibatches, epoch after epoch.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="data">Training rows <c>[rows, ...EventShape]</c>; every value must be finite.</param>
    /// <param name="options">Settings; null for the defaults. A batch size above the row count uses all rows;
    /// <see cref="FitOptions.Epochs"/> counts passes; <see cref="FitOptions.ValidationFraction"/> holds rows out for early stopping.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step (the best parameters are put back when there is a validation set).</param>
    /// <exception cref="ArgumentException">The data has the wrong shape, no rows, a non-finite value (the message names the row), or is
    /// not of the model's dtype on its device (a fit never converts or moves data).</exception>
    public static FitResult ToData(Distribution model, Tensor data, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireUnconditional(model);
        return FitRows(model, data, null, options, progress, cancellationToken);
    }

    /// <summary>Fits a conditional model to in-memory rows and their contexts, in shuffled minibatches, epoch after epoch.</summary>
    /// <param name="model">The conditional model to train (<see cref="Distribution.ContextFeatures"/> &gt; 0).</param>
    /// <param name="data">Training rows <c>[rows, ...EventShape]</c>; every value must be finite.</param>
    /// <param name="context">One context row per data row, <c>[rows, ContextFeatures]</c>; every value must be finite.</param>
    /// <param name="options">Settings; null for the defaults (see the overload without a context).</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    /// <exception cref="ArgumentException">A shape is wrong, there are no rows, a value is not finite (the message names the row), or
    /// the data or context is not of the model's dtype on its device (a fit never converts or moves data).</exception>
    public static FitResult ToData(Distribution model, Tensor data, Tensor context, FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireConditional(model);
        return FitRows(model, data, context, options, progress, cancellationToken);
    }

    /// <summary>What a fit to data minimises on one batch (inside the step's scope); null in the helpers below means the negative
    /// log-likelihood.</summary>
    private delegate Tensor BatchLoss(Tensor batch, Tensor? context, Generator generator);

    /// <summary>The mean negative log-likelihood of the batch. Its one backward pass follows in the training loop, whose optimizer
    /// owns every parameter's gradient buffer, so a chain that trains as one fused node adds its weights' gradients straight into
    /// them (<see cref="Kernels.FusedChainTraining.DirectGradients"/>: the same sums, without a tensor per parameter).</summary>
    private static Tensor NegativeLogLikelihood(Distribution model, Tensor batch, Tensor? context)
    {
        using var direct = Kernels.FusedChainTraining.DirectGradients();
        return model.LogProbCore(batch, context).mean().neg();
    }

    private static FitResult FitSampler(Distribution model, Func<long, Generator, (Tensor Data, Tensor? Context)> sampler, FitOptions? options,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, BatchLoss? batchLoss = null, string? objective = null)
    {
        options ??= new FitOptions();
        options.Validate();
        if (options.Epochs is not null)
            throw new ArgumentException("Epochs counts passes over in-memory data; a sampler has no epochs: set Iterations instead.", nameof(options));
        if (options.ValidationFraction != 0)
            throw new ArgumentException("ValidationFraction splits in-memory data; with a sampler, set ValidationSize (rows drawn once for validation).", nameof(options));
        if (options.BatchTransform is not null)
            throw new ArgumentException("BatchTransform applies to in-memory data; a sampler draws every batch itself: transform the batch there.", nameof(options));
        RequireValidationForPatience(options, options.ValidationSize > 0);
        if (options.DequantizeColumns is { Count: > 0 })
            throw new ArgumentException("DequantizeColumns applies to in-memory data; a sampler adds its own noise.", nameof(options));
        ValidationSet? validation = null;
        if (options.ValidationSize > 0)
        {
            using var validationGenerator = new Generator((ulong)(options.Seed + 1));
            using var scope = torch.NewDisposeScope();
            var (data, context) = Checked(model, sampler(options.ValidationSize, validationGenerator), "sampler");
            validation = new ValidationSet(data.detach().clone(), context?.detach().clone());
        }
        bool first = validation is null;
        using var loop = new TrainingLoop(model, options, options.Iterations, 0, (generator, _) =>
        {
            var (batch, context) = sampler(options.BatchSize, generator);
            if (first)
            {
                Checked(model, (batch, context), "sampler");
                first = false;
            }
            var loss = batchLoss is null ? NegativeLogLikelihood(model, batch, context) : batchLoss(batch, context, generator);
            return (loss, loss);
        }, validation, objective: objective);
        return loop.Run(progress, cancellationToken);
    }

    private static (Tensor Data, Tensor? Context) Checked(Distribution model, (Tensor Data, Tensor? Context) batch, string source)
    {
        Guard.Shaped(batch.Data, model.EventShape, source + " data");
        if (model.ContextFeatures > 0) Guard.Context(batch.Context, model.ContextFeatures, batch.Data.size(0), source + " context");
        model.CheckPlacement(batch.Data, source + " data", model.ContextFeatures > 0 ? batch.Context : null);
        return batch;
    }

    private static FitResult FitRows(Distribution model, Tensor data, Tensor? context, FitOptions? options,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, BatchLoss? batchLoss = null, string? objective = null)
    {
        // Nothing is converted or moved behind the caller's back: data of another dtype or on another device than the model is an error.
        Guard.Shaped(data, model.EventShape, nameof(data));
        if (context is not null) Guard.Context(context, model.ContextFeatures, data.size(0), nameof(context));
        model.CheckPlacement(data, nameof(data), context);
        Guard.Finite(data, nameof(data));
        if (context is not null) Guard.Finite(context, nameof(context));
        options ??= new FitOptions();
        options.Validate();
        if (options.ValidationSize != 0)
            throw new ArgumentException("ValidationSize draws validation rows from a sampler; with in-memory data, set ValidationFraction.", nameof(options));
        RequireValidationForPatience(options, options.ValidationFraction > 0);
        using var noiseMask = DequantizationMask(model, data, options);
        using var rows = RowBatches.Create(data, context, options);
        int stepsPerEpoch = rows.StepsPerEpoch;
        int iterations = options.Epochs is { } epochs ? checked(epochs * stepsPerEpoch) : options.Iterations;
        var validation = rows.TakeValidation();
        var transform = PerBatch(options.BatchTransform, noiseMask);
        if (transform is not null && validation is not null)
        {
            using var validationGenerator = new Generator((ulong)(options.Seed + 1));
            validation = validation.Transformed(held => Transformed(model, transform, held, validationGenerator, "BatchTransform (validation rows)"));
        }
        bool first = true;
        using var loop = new TrainingLoop(model, options, iterations, stepsPerEpoch, (generator, _) =>
        {
            var (batch, batchContext) = rows.Next(generator);
            if (transform is not null)
            {
                batch = first ? Transformed(model, transform, batch, generator, "BatchTransform") : transform(batch, generator);
                first = false;
            }
            var loss = batchLoss is null ? NegativeLogLikelihood(model, batch, batchContext) : batchLoss(batch, batchContext, generator);
            return (loss, loss);
        }, validation, rows, objective);
        return loop.Run(progress, cancellationToken);
    }

    /// <summary>The <c>[columns]</c> noise mask of <see cref="FitOptions.DequantizeColumns"/> (detached; the caller disposes it), or
    /// null; checks that the data is a table whose chosen columns hold integers.</summary>
    private static Tensor? DequantizationMask(Distribution model, Tensor data, FitOptions options)
    {
        if (options.DequantizeColumns is not { Count: > 0 } columns) return null;
        if (model.EventShape.Count != 1)
            throw new ArgumentException($"DequantizeColumns needs rows of shape [rows, columns]; the model's event shape is {Guard.Shape(model.EventShape)}.", nameof(options));
        if (!data.is_floating_point()) throw new ArgumentException($"DequantizeColumns needs floating-point data; got {data.dtype}.", nameof(data));
        Data.DiscreteColumns.RequireIntegers(data, columns, nameof(data));
        return Data.DiscreteColumns.Mask(columns, data.size(1), data.dtype, data.device).DetachFromDisposeScope();
    }

    /// <summary>What is done to every training batch (and once to the validation rows): the dequantisation noise of
    /// <see cref="FitOptions.DequantizeColumns"/> first, then <see cref="FitOptions.BatchTransform"/>; both draw from the generator
    /// they are given (the fit's, so that a resumed fit continues exactly). Null when there is neither.</summary>
    private static Func<Tensor, Generator, Tensor>? PerBatch(Func<Tensor, Generator, Tensor>? batchTransform, Tensor? noiseMask)
    {
        if (noiseMask is null) return batchTransform;
        Tensor Noise(Tensor batch, Generator generator) => Data.DiscreteColumns.AddNoise(batch, noiseMask, generator);
        return batchTransform is null ? Noise : (batch, generator) => batchTransform(Noise(batch, generator), generator);
    }

    /// <summary>Applies a batch transform and checks that what it returns still fits the model (shape, dtype, device).</summary>
    private static Tensor Transformed(Distribution model, Func<Tensor, Generator, Tensor> transform, Tensor batch, Generator generator, string source)
    {
        var result = transform(batch, generator) ?? throw new InvalidOperationException($"{source} returned null.");
        Guard.Shaped(result, model.EventShape, source);
        model.CheckPlacement(result, source, null);
        return result;
    }

    private static void RequireValidationForPatience(FitOptions options, bool hasValidation)
    {
        if (options.Patience is not null && !hasValidation)
            throw new ArgumentException(
                "Early stopping (Patience) needs a validation set: set ValidationFraction (in-memory data) or ValidationSize (sampler).", nameof(options));
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
