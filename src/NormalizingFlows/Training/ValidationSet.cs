using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>Held-out rows (and their contexts) whose mean negative log-likelihood a fit tracks for early stopping.</summary>
internal sealed class ValidationSet : IDisposable
{
    private const long ChunkSize = 65_536;
    private readonly Tensor data;
    private readonly Tensor? context;

    /// <summary>Takes ownership of the tensors (detached from any scope).</summary>
    public ValidationSet(Tensor data, Tensor? context)
    {
        this.data = data.DetachFromDisposeScope();
        this.context = context?.DetachFromDisposeScope();
    }

    public long Rows => data.size(0);

    /// <summary>Mean negative log-likelihood in nats, in inference mode and in chunks; the model is put in eval mode and back.
    /// Exact log-dets where <see cref="Diagnostics.ExactEvaluation"/> affords them (a residual flow's validation loss, and so
    /// early stopping, is then not noise).</summary>
    public double Loss(Distribution model)
    {
        bool training = model.training;
        model.eval();
        using var exact = Diagnostics.ExactEvaluation.Enter(model);
        try
        {
            using var inference = torch.inference_mode();
            double sum = 0;
            for (long start = 0; start < Rows; start += ChunkSize)
            {
                using var scope = torch.NewDisposeScope();
                long length = Math.Min(ChunkSize, Rows - start);
                var logProb = model.LogProbCore(data.narrow(0, start, length), context?.narrow(0, start, length));
                sum += TensorValues.ToDouble(logProb.to(ScalarType.Float64).sum());
            }
            return -sum / Rows;
        }
        finally
        {
            if (training) model.train();
        }
    }

    /// <summary>A new set holding <paramref name="transform"/> of these rows (same contexts); this set is disposed, also when the
    /// transform fails or returns a non-finite value.</summary>
    public ValidationSet Transformed(Func<Tensor, Tensor> transform)
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var transformed = transform(data).detach().clone();
            Guard.Finite(transformed, "BatchTransform (validation rows)");
            return new ValidationSet(transformed, context?.detach().clone());
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        data.Dispose();
        context?.Dispose();
    }
}
