using System;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Inference;

/// <summary>Log-densities of many rows, in chunks, in inference mode, on the model's device, back on the CPU in float64.</summary>
internal static class LogProbs
{
    private const long Chunk = 65_536;

    /// <summary>Loads the model file and the data file (checking that their widths agree) and returns the log-density of every
    /// row (float64, on the CPU, in the caller's dispose scope) and the number of columns; null log-densities when cancelled.</summary>
    public static (Tensor? LogProb, long Rows, long Columns) OfFile(string modelPath, string dataPath, string device, CancellationToken cancellationToken)
    {
        var dev = NormalizingFlows.Cli.Runtime.DeviceChoice.Resolve(device);
        var (distribution, _) = ModelInput.Load(modelPath, dev);
        using var loaded = distribution;
        var (rows, _) = DataInput.Read(dataPath, ScalarType.Float64);
        DataInput.RequireWidth(dataPath, rows, loaded);
        return (Of(loaded, rows, dev, cancellationToken), rows.size(0), rows.size(1));
    }

    /// <summary>log q of each row of <paramref name="rows"/> (on the CPU); null when cancelled.</summary>
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
