// Anomaly detection in an ML.NET pipeline with an exported flow: train a density on normal rows with the library, export
// its log_prob graph to ONNX, then score a tabular file with ML.NET (ApplyOnnxModel) and flag the lowest-density rows.
// Run: dotnet run --project examples/OnnxAnomalies -c Release [-- --quick]
using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using NormalizingFlows;
using NormalizingFlows.Data;
using NormalizingFlows.Onnx;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;

namespace Examples.OnnxAnomalies;

/// <summary>What the example measured: how many of the planted anomalies the lowest-density rows caught.</summary>
public sealed record Report(int Rows, int Planted, int Flagged, int PlantedFlagged, double Threshold);

/// <summary>One row of the tabular file as ML.NET reads it.</summary>
public sealed class Transaction
{
    [LoadColumn(0)] public float A { get; set; }
    [LoadColumn(1)] public float B { get; set; }
}

/// <summary>What ML.NET gives back per row: the flow's log-density.</summary>
public sealed class Scored
{
    [ColumnName("log_prob")] public float[] LogProb { get; set; } = Array.Empty<float>();
}

public static class Tutorial
{
    public static int Main(string[] args)
    {
        var report = Run(quick: args.Contains("--quick"), Console.Out, Path.Combine(Path.GetTempPath(), "nflows-onnx-anomalies"));
        return report.PlantedFlagged > 0 ? 0 : 1;
    }

    /// <summary>Trains, exports, scores with ML.NET and flags the lowest 1% of densities.</summary>
    public static Report Run(bool quick, TextWriter log, string folder)
    {
        Directory.CreateDirectory(folder);
        var target = new Banana();

        // 1. A density of normal behaviour, learned with the library (TorchSharp).
        using var flow = Flows.RealNvp(features: 2, layers: 6, hiddenFeatures: new[] { 64, 64 }, seed: 0);
        Fit.ToData(flow, target, new FitOptions { Iterations = quick ? 300 : 2000, BatchSize = 512, LearningRate = 1e-3 });
        flow.eval();

        // 2. The log_prob graph alone: its one input x is what ML.NET's ApplyOnnxModel maps a vector column to.
        string model = Path.Combine(folder, "density.onnx");
        flow.ExportOnnx(model, new OnnxExportOptions { Graphs = OnnxGraphs.LogProb });

        // 3. A tabular file: 1980 normal rows and 20 planted anomalies outside the banana's box.
        const int Normal = 1980, Planted = 20;
        string file = Path.Combine(folder, "transactions.csv");
        using (var scope = torch.NewDisposeScope())
        {
            using var generator = new torch.Generator(7);
            var normal = target.Sample(Normal, generator);
            var random = new Random(7);
            var planted = Enumerable.Range(0, 2 * Planted).Select(i => i % 2 == 0 ? -20f - 10f * random.NextSingle() : 20f + 10f * random.NextSingle()).ToArray();
            var anomalies = torch.tensor(planted).reshape(Planted, 2);
            TabularFile.Write(file, torch.cat(new[] { normal, anomalies }, 0), new[] { "a", "b" });
        }

        // 4. ML.NET: read the file, put the columns side by side as x, score with the exported flow.
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<Transaction>(file, hasHeader: true, separatorChar: ',');
        var pipeline = ml.Transforms.Concatenate("x", nameof(Transaction.A), nameof(Transaction.B))
            .Append(ml.Transforms.ApplyOnnxModel(outputColumnName: "log_prob", inputColumnName: "x", modelFile: model));
        var scored = pipeline.Fit(data).Transform(data);
        var logProb = ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).Select(s => s.LogProb[0]).ToArray();

        // 5. The lowest 1% of densities are the anomalies.
        int flaggedCount = logProb.Length / 100;
        double threshold = logProb.OrderBy(v => v).ElementAt(flaggedCount - 1);
        var flagged = Enumerable.Range(0, logProb.Length).Where(i => logProb[i] <= threshold).ToArray();
        int caught = flagged.Count(i => i >= Normal);
        log.WriteLine($"scored {logProb.Length} rows with ML.NET; threshold log q = {threshold:F2}; flagged {flagged.Length}, of which {caught} of the {Planted} planted anomalies");
        return new Report(logProb.Length, Planted, flagged.Length, caught, threshold);
    }
}
