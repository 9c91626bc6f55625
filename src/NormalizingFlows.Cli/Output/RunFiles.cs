using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using NormalizingFlows.Internal;

namespace NormalizingFlows.Cli.Output;

/// <summary>The files of a run: names, the default folder, and the writers of metrics.json and losses.csv. Every file is
/// written atomically (a temporary file in the same folder, then a rename): a failure leaves the old file, or none.</summary>
internal static class RunFiles
{
    /// <summary>Metrics file name.</summary>
    public const string Metrics = "metrics.json";

    /// <summary>Loss curve file name.</summary>
    public const string Losses = "losses.csv";

    /// <summary>The trained model: architecture and weights (load it with <c>Flow.Load</c>).</summary>
    public const string Model = "model.nflow";

    /// <summary>The self-contained HTML report of a demo or train run.</summary>
    public const string Report = "report.html";

    /// <summary>
    /// <c>./runs/&lt;target&gt;-&lt;yyyyMMdd-HHmmss&gt;</c> under <paramref name="baseDirectory"/>, with a numeric
    /// suffix if that folder already exists.
    /// </summary>
    public static string DefaultDirectory(string baseDirectory, string target, DateTime now)
    {
        string stem = Path.Combine(baseDirectory, "runs", $"{target}-{now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        string path = stem;
        for (int i = 2; Directory.Exists(path) || File.Exists(path); i++)
            path = $"{stem}-{i.ToString(CultureInfo.InvariantCulture)}";
        return path;
    }

    /// <summary>Writes <paramref name="metrics"/> as JSON.</summary>
    public static void WriteMetrics(string path, RunMetrics metrics)
    {
        string json = JsonSerializer.Serialize(metrics, MetricsJsonContext.Default.RunMetrics);
        WriteText(path, json + Environment.NewLine);
    }

    /// <summary>Writes a JSON object (indented, UTF-8), e.g. the metrics of a command other than demo.</summary>
    public static void WriteJson(string path, System.Text.Json.Nodes.JsonObject json)
    {
        string text = json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        WriteText(path, text + Environment.NewLine);
    }

    /// <summary>Writes <c>iteration,loss</c> rows (1-based; NaN or Infinity for skipped steps), with a third column
    /// <c>validation_loss</c> when <paramref name="validation"/> is given (empty where none was computed).</summary>
    public static void WriteLosses(string path, IReadOnlyList<double> losses, IReadOnlyList<NormalizingFlows.Training.ValidationPoint>? validation = null)
    {
        var byIteration = new Dictionary<int, double>();
        if (validation is not null) foreach (var point in validation) byIteration[point.Iteration] = point.Loss;
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            writer.Write(validation is null ? "iteration,loss\n" : "iteration,loss,validation_loss\n");
            for (int i = 0; i < losses.Count; i++)
            {
                writer.Write((i + 1).ToString(CultureInfo.InvariantCulture));
                writer.Write(',');
                writer.Write(losses[i].ToString("R", CultureInfo.InvariantCulture));
                if (validation is not null)
                {
                    writer.Write(',');
                    if (byIteration.TryGetValue(i + 1, out double v)) writer.Write(v.ToString("R", CultureInfo.InvariantCulture));
                }
                writer.Write('\n');
            }
        });
    }

    /// <summary>Writes <c>iteration,loss</c> rows for the given iterations only (e.g. the steps recorded before a failure).</summary>
    public static void WriteLosses(string path, IReadOnlyList<(int Iteration, double Loss)> losses)
    {
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            writer.Write("iteration,loss\n");
            foreach (var (iteration, loss) in losses)
            {
                writer.Write(iteration.ToString(CultureInfo.InvariantCulture));
                writer.Write(',');
                writer.Write(loss.ToString("R", CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
        });
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark), atomically.</summary>
    public static void WriteText(string path, string text)
    {
        byte[] bytes = new UTF8Encoding(false).GetBytes(text);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
