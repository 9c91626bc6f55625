using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using NormalizingFlows.Plotting;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Cli.Output;

/// <summary>
/// The figures and the HTML report of an <c>nflows train</c> run, as <c>nflows demo</c> writes them: the command, the
/// configuration and metrics (read back from the run's metrics.json, so the page shows what the file holds), the training
/// curve with the validation losses, and for 2-D data the learned density and flow samples over data rows; for more
/// columns, flow samples over data rows on every pair of the first four columns.
/// </summary>
internal static class TrainReport
{
    /// <summary>The training curve.</summary>
    public const string TrainingFigure = "training.png";

    /// <summary>The learned density (2-D data).</summary>
    public const string DensityFigure = "density.png";

    /// <summary>Flow samples over data rows (2-D data).</summary>
    public const string SamplesFigure = "samples.png";

    /// <summary>Flow samples over data rows on pairs of columns (more than two columns).</summary>
    public const string PairsFigure = "pairs.png";

    /// <summary>Every figure file a run may write.</summary>
    public static readonly string[] FigureNames = { TrainingFigure, DensityFigure, SamplesFigure, PairsFigure };

    /// <summary>Flow samples and data rows drawn in the scatter figures.</summary>
    public const int Points = 2_000;

    /// <summary>The settings shown under Configuration: metrics.json key and the label on the page.</summary>
    private static readonly (string Key, string Label)[] ConfigurationKeys =
    {
        ("data", "data"), ("rows", "rows"), ("columns", "columns"), ("flow", "flow"), ("flow_parameters", "trainable parameters"),
        ("standardized", "standardised"), ("epochs", "epochs"), ("steps", "steps"), ("batch", "batch"),
        ("learning_rate", "learning rate"), ("schedule", "schedule"), ("validation_fraction", "validation fraction"),
        ("patience", "patience"), ("seed", "seed"), ("device", "device"), ("dtype", "dtype"), ("resumed_at", "resumed at step"),
    };

    /// <summary>The results shown under Metrics: metrics.json key and the label on the page (with its unit).</summary>
    private static readonly (string Key, string Label)[] MetricKeys =
    {
        ("completed_steps", "completed steps"), ("stopped_early", "stopped early"), ("restored_best", "restored the best weights"),
        ("best_iteration", "best validation step"), ("best_validation_nll", "best validation NLL (nats per row)"),
        ("final_loss", "final loss (nats per row)"), ("train_nll", "training NLL (nats per row)"),
        ("train_bits_per_dim", "training NLL (bits per dimension)"), ("skipped_steps", "skipped steps"),
        ("train_seconds", "training time (s)"), ("cancelled", "interrupted"),
    };

    /// <summary>Writes the figures and report.html into <paramref name="directory"/>, after metrics.json, and returns the
    /// report's path.</summary>
    /// <param name="directory">The run folder (it holds metrics.json).</param>
    /// <param name="command">The command line that reproduces the run.</param>
    /// <param name="flow">The trained flow.</param>
    /// <param name="rows">The training data <c>[rows, columns]</c>, on the flow's device and in its dtype.</param>
    /// <param name="columns">The columns' names.</param>
    /// <param name="fit">The fit's result (losses and validation losses).</param>
    /// <param name="seed">Seed of the flow samples and of the rows drawn.</param>
    public static string Write(string directory, string command, Flow flow, Tensor rows, IReadOnlyList<string> columns, FitResult fit, long seed)
    {
        string P(string name) => Path.Combine(directory, name);
        var metrics = JsonNode.Parse(File.ReadAllText(P(RunFiles.Metrics))) as JsonObject
            ?? throw new InvalidDataException($"{P(RunFiles.Metrics)} does not hold a JSON object.");
        var figures = new List<(string Path, string Caption)>();
        if (fit.Losses.Any(double.IsFinite))
        {
            var validation = fit.Validation.Select(v => (v.Iteration, v.Loss)).ToArray();
            figures.Add((Plots.TrainingCurve(P(TrainingFigure), fit.Losses, validation.Length > 0 ? validation : null, unit: "nats per row"),
                "The loss (mean negative log-likelihood of each batch, in nats per row) at every step, its moving average" +
                (validation.Length > 0 ? ", and the validation loss." : ".")));
        }

        int features = (int)rows.size(1);
        if (features >= 2)
        {
            using var scope = torch.NewDisposeScope();
            var samples = Sample(flow, Points, seed);
            var shown = Subset(rows, Points, seed);
            if (features == 2)
            {
                var box = Bounds(shown);
                figures.Add((Plots.Density(P(DensityFigure), flow, box, title: "learned density q(x)"),
                    "The learned density over the central 99.6 % of the data along each axis (the colour bar says whether its scale is linear, clipped or logarithmic)."));
                figures.Add((Plots.SamplesOverTarget(P(SamplesFigure), samples, shown, box, "flow samples over data rows"),
                    $"{Points.ToString("N0", CultureInfo.InvariantCulture)} flow samples over {shown.size(0).ToString("N0", CultureInfo.InvariantCulture)} data rows."));
            }
            else
            {
                figures.Add((Plots.Pairs(P(PairsFigure), samples, shown, columns),
                    $"Flow samples over data rows on every pair of the first {Math.Min(features, 4).ToString(CultureInfo.InvariantCulture)} of {features.ToString(CultureInfo.InvariantCulture)} columns."));
            }
        }

        var report = new RunReport($"nflows train {Text(metrics["flow"])} on {Path.GetFileName(Text(metrics["data"]))}").WithCommand(command);
        foreach (var (key, label) in ConfigurationKeys)
        {
            // A fresh run has nothing to say about resuming.
            if (key == "resumed_at" && Text(metrics[key]) is "0" or "n/a") continue;
            if (metrics.ContainsKey(key)) report.AddConfiguration(label, Text(metrics[key]));
        }
        foreach (var (key, label) in MetricKeys)
            if (metrics.ContainsKey(key)) report.AddMetric(label, Text(metrics[key]));
        foreach (var (file, caption) in figures) report.AddImage(file, caption);
        return report.Write(P(RunFiles.Report));
    }

    /// <summary>
    /// <see cref="Write"/>, but a failure to draw or write is a warning on <paramref name="error"/>, not a failed run (the model,
    /// metrics.json and losses.csv are already written); returns the report's path, or null when it was not written.
    /// </summary>
    public static string? TryWrite(string directory, string command, Flow flow, Tensor rows, IReadOnlyList<string> columns, FitResult fit,
        long seed, TextWriter error)
    {
        try
        {
            return Write(directory, command, flow, rows, columns, fit, seed);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"warning: could not write {RunFiles.Report} in {directory}: {e.Message}");
            return null;
        }
    }

    /// <summary>A metrics.json value as the page shows it: strings as they are, whole numbers as written, other numbers to
    /// six significant digits, null as "n/a".</summary>
    internal static string Text(JsonNode? node)
    {
        if (node is null) return "n/a";
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String) return value.GetValue<string>();
        string raw = node.ToJsonString();
        if (node is JsonValue number && number.GetValueKind() == JsonValueKind.Number && raw.IndexOfAny(new[] { '.', 'e', 'E' }) >= 0)
            return double.Parse(raw, CultureInfo.InvariantCulture).ToString("G6", CultureInfo.InvariantCulture);
        return raw;
    }

    /// <summary><paramref name="count"/> samples of the flow in evaluation mode, without gradients (the mode is restored).</summary>
    private static Tensor Sample(Flow flow, int count, long seed)
    {
        bool training = flow.training;
        flow.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var generator = new Generator((ulong)seed);
            return flow.Sample(count, generator: generator);
        }
        finally
        {
            if (training) flow.train();
        }
    }

    /// <summary>At most <paramref name="count"/> rows, drawn without replacement (all of them when there are fewer).</summary>
    private static Tensor Subset(Tensor rows, int count, long seed)
    {
        if (rows.size(0) <= count) return rows.alias();
        using var generator = new Generator((ulong)seed + 1);
        var order = torch.randperm(rows.size(0), generator: generator).narrow(0, 0, count).to(rows.device);
        return rows.index_select(0, order);
    }

    /// <summary>A rectangle holding the central 99.6 % of the points along each axis, padded by 5 % on every side.</summary>
    private static Box Bounds(Tensor points)
    {
        var cpu = points.detach().to(ScalarType.Float64).cpu().contiguous();
        var values = cpu.data<double>().ToArray();
        var (xLow, xHigh) = Range(values.Where((_, i) => i % 2 == 0));
        var (yLow, yHigh) = Range(values.Where((_, i) => i % 2 == 1));
        double padX = Math.Max((xHigh - xLow) * 0.05, 1e-6), padY = Math.Max((yHigh - yLow) * 0.05, 1e-6);
        return new Box(xLow - padX, xHigh + padX, yLow - padY, yHigh + padY);
    }

    private static (double Low, double High) Range(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).OrderBy(v => v).ToArray();
        if (finite.Length == 0) return (-1, 1);
        int last = finite.Length - 1;
        return (finite[(int)Math.Floor(0.002 * last)], finite[(int)Math.Ceiling(0.998 * last)]);
    }
}
