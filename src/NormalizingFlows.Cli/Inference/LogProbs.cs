using System;
using System.Linq;
using System.Threading;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Inference;

/// <summary>Log-densities of many rows, in chunks, in inference mode, on the model's device, back on the CPU in float64, with
/// exact log-dets wherever <see cref="ExactEvaluation"/> affords them.</summary>
internal static class LogProbs
{
    private const long Chunk = 65_536;

    /// <summary>Loads the model file and the data file (checking that their widths agree) and evaluates every row (see
    /// <see cref="Evaluate"/>); null when cancelled.</summary>
    public static LogProbEvaluation? OfFile(string modelPath, string dataPath, string device, InputLimits limits, CancellationToken cancellationToken,
        int repeats = Metrics.DefaultRepeats)
    {
        var dev = NormalizingFlows.Cli.Runtime.DeviceChoice.Resolve(device);
        var (distribution, _) = ModelInput.Load(modelPath, dev, limits);
        using var loaded = distribution;
        var (rows, _) = DataInput.Read(dataPath, ScalarType.Float64, limits);
        DataInput.RequireWidth(dataPath, rows, loaded);
        return Evaluate(loaded, rows, dev, repeats, cancellationToken);
    }

    /// <summary>log q of each row of <paramref name="rows"/>, exact where affordable; otherwise the mean of
    /// <paramref name="repeats"/> evaluations of the estimate (each draws fresh probes) with per-row standard errors. Tensors in
    /// the caller's dispose scope; null when cancelled.</summary>
    public static LogProbEvaluation? Evaluate(Distribution model, Tensor rows, Device device, int repeats, CancellationToken cancellationToken)
    {
        if (repeats < 2) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, $"repeats must be at least 2; got {repeats}.");
        using var exact = ExactEvaluation.Enter(model);
        using var scope = torch.NewDisposeScope();
        int evaluations = exact.IsExact ? 1 : repeats;
        var runs = new Tensor[evaluations];
        for (int i = 0; i < evaluations; i++)
        {
            if (Of(model, rows, device, cancellationToken) is not { } run) return null;
            runs[i] = run;
        }
        var stacked = torch.stack(runs, 0);                                   // [evaluations, rows]
        var means = stacked.mean(new long[] { 1 });
        var perEvaluation = Enumerable.Range(0, evaluations).Select(i => TensorValues.ToDouble(means[i])).ToArray();
        if (evaluations == 1)
            return new LogProbEvaluation(scope.MoveToOuter(runs[0]), null, perEvaluation, rows.size(0), rows.size(1));
        using var root = Math.Sqrt(evaluations).ToScalar();
        var mean = stacked.mean(new long[] { 0 });
        var standardError = stacked.std(0).div(root);
        return new LogProbEvaluation(scope.MoveToOuter(mean), scope.MoveToOuter(standardError), perEvaluation, rows.size(0), rows.size(1));
    }

    /// <summary>One evaluation of log q of each row of <paramref name="rows"/> (on the CPU), as the model is now (callers
    /// enter <see cref="ExactEvaluation"/>); null when cancelled.</summary>
    public static Tensor? Of(Distribution model, Tensor rows, Device device, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var parts = new System.Collections.Generic.List<Tensor>();
        var dtype = model.parameters().Select(p => p.dtype).FirstOrDefault(ScalarType.Float32);
        for (long start = 0; start < rows.size(0); start += Chunk)
        {
            if (cancellationToken.IsCancellationRequested) return null;
            var chunk = rows.narrow(0, start, Math.Min(Chunk, rows.size(0) - start)).to(dtype).to(device);
            parts.Add(model.LogProb(chunk).to(ScalarType.Float64).cpu());
        }
        return scope.MoveToOuter(torch.cat(parts.ToArray(), 0));
    }
}
