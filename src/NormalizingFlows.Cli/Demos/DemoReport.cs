using System.Collections.Generic;
using System.Globalization;
using NormalizingFlows.Cli.Output;
using NormalizingFlows.Plotting;

namespace NormalizingFlows.Cli.Demos;

/// <summary>The HTML report of a demo run: the command that reproduces it, its configuration, its metrics and its figures.</summary>
internal static class DemoReport
{
    /// <summary>Writes the report (images embedded, so the page stands alone) and returns its path; <paramref name="onnxModel"/> says
    /// how to use the exported <c>model.onnx</c> (or why there is none).</summary>
    public static string Write(string path, DemoSettings settings, RunMetrics metrics, IReadOnlyList<(string Path, string Caption)> figures, string onnxModel)
    {
        string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
        var report = new RunReport($"nflows demo {settings.Preset.Name}")
            .WithCommand(settings.Command)
            .AddConfiguration("demo", settings.Preset.Name)
            .AddConfiguration("target", metrics.Target)
            .AddConfiguration("flow", metrics.Flow)
            .AddConfiguration("trainable parameters", metrics.FlowParameters)
            .AddConfiguration("iterations", metrics.Iterations)
            .AddConfiguration("batch", metrics.Batch)
            .AddConfiguration("optimizer", $"{metrics.Optimizer}, learning rate {F(metrics.LearningRate, "G")} ({metrics.Schedule}), weight decay {F(metrics.WeightDecay, "G")}")
            .AddConfiguration("seed", metrics.Seed)
            .AddConfiguration("ONNX model", onnxModel)
            .AddMetric("KL(p||q)", $"{metrics.KlEstimate.Format("F4")} nats")
            .AddMetric("test NLL", $"{metrics.TestNllEstimate.Format("F4")} nats")
            .AddMetric("integral of q over the plotted box", F(metrics.GridIntegral, "F4"))
            .AddMetric("final loss", F(metrics.FinalLoss, "F4"))
            .AddMetric("skipped steps", metrics.SkippedSteps)
            .AddMetric("completed iterations", metrics.CompletedIterations + (metrics.Cancelled ? " (interrupted)" : ""))
            .AddMetric("training time", $"{F(metrics.TrainSeconds, "F1")} s ({F(metrics.IterationsPerSecond, "F0")} it/s)");
        foreach (var (file, caption) in figures) report.AddImage(file, caption);
        return report.Write(path);
    }
}
