using System;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// Shuffled minibatches over in-memory rows: a validation split (held out once, chosen with a generator seeded
/// <see cref="FitOptions.Seed"/>), then a fresh permutation of the training rows for every epoch, drawn from the fit's
/// generator; the last partial batch of each pass is dropped.
/// </summary>
internal sealed class RowBatches : IDisposable
{
    private readonly Tensor data;
    private readonly Tensor? context;
    private readonly long batchSize;
    private ValidationSet? validation;
    private Tensor? order;
    private long position;

    private RowBatches(Tensor data, Tensor? context, long batchSize, ValidationSet? validation)
    {
        this.data = data;
        this.context = context;
        this.batchSize = batchSize;
        this.validation = validation;
        position = Rows;
    }

    /// <summary>Splits off the validation rows (if any; <see cref="Fit.SplitIndices"/>) and prepares the batches.</summary>
    public static RowBatches Create(Tensor data, Tensor? context, FitOptions options)
    {
        long rows = data.size(0);
        if (options.ValidationFraction == 0)
            return new RowBatches(data.alias().DetachFromDisposeScope(), context?.alias().DetachFromDisposeScope(), Math.Min(options.BatchSize, rows), null);
        using var scope = torch.NewDisposeScope();
        var (trainingRows, validationRows) = Fit.SplitIndices(rows, options, data.device);
        var validation = new ValidationSet(data.index_select(0, validationRows), context?.index_select(0, validationRows));
        var training = data.index_select(0, trainingRows).DetachFromDisposeScope();
        var trainingContext = context?.index_select(0, trainingRows).DetachFromDisposeScope();
        return new RowBatches(training, trainingContext, Math.Min(options.BatchSize, trainingRows.size(0)), validation);
    }

    private long Rows => data.size(0);

    /// <summary>Steps in one pass over the training rows.</summary>
    public int StepsPerEpoch => (int)Math.Max(1, Rows / batchSize);

    /// <summary>Hands the validation set (or null) to the caller, who then owns it.</summary>
    public ValidationSet? TakeValidation()
    {
        var taken = validation;
        validation = null;
        return taken;
    }

    /// <summary>The next batch, in the caller's dispose scope.</summary>
    public (Tensor Data, Tensor? Context) Next(Generator generator)
    {
        if (position + batchSize > Rows)
        {
            order?.Dispose();
            order = torch.randperm(Rows, ScalarType.Int64, generator: generator).to(data.device).DetachFromDisposeScope();
            position = 0;
        }
        var rowsOfBatch = order!.narrow(0, position, batchSize);
        position += batchSize;
        return (data.index_select(0, rowsOfBatch), context?.index_select(0, rowsOfBatch));
    }

    /// <summary>Adds the minibatch order and position to a checkpoint's tensors.</summary>
    public void ExportState(System.Collections.Generic.IDictionary<string, Tensor> tensors)
    {
        if (order is not null) tensors["rows.order"] = order.cpu().clone();
        tensors["rows.position"] = torch.tensor(new[] { position }, dtype: ScalarType.Int64);
    }

    /// <summary>Restores the minibatch order and position from a checkpoint's tensors.</summary>
    /// <remarks>The checkpoint has checked the types (1-D Int64 order, one non-negative Int64 position); here the values are
    /// checked against the data, so that no index outside the rows reaches libtorch.</remarks>
    public void ImportState(System.Collections.Generic.IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (tensors.TryGetValue("rows.order", out var saved))
        {
            if (saved.numel() != Rows)
                throw new ArgumentException($"The checkpoint's minibatch order covers {saved.numel()} rows but the data has {Rows} training rows.", "options");
            var indices = saved.data<long>().ToArray();
            if (indices.Any(i => i < 0 || i >= Rows))
                throw new ArgumentException($"The checkpoint's minibatch order (field 'rows.order') holds a row index outside 0..{Rows - 1}.", "options");
            order?.Dispose();
            order = saved.to(data.device).clone().DetachFromDisposeScope();
        }
        if (tensors.TryGetValue("rows.position", out var p))
        {
            long savedPosition = p.data<long>()[0];
            if (savedPosition < 0 || savedPosition > Rows || (order is null && savedPosition != Rows))
                throw new ArgumentException($"The checkpoint's minibatch position (field 'rows.position') is {savedPosition}; the data has {Rows} training rows.", "options");
            position = savedPosition;
        }
    }

    /// <summary>Number of training rows (after the validation split).</summary>
    public long TrainingRows => Rows;

    public void Dispose()
    {
        order?.Dispose();
        validation?.Dispose();
        data.Dispose();
        context?.Dispose();
    }
}
