using System.Globalization;
using NormalizingFlows.Cli.Output;
using Spectre.Console;

namespace NormalizingFlows.Cli.Rendering;

/// <summary>The short table printed after a run.</summary>
internal static class SummaryTable
{
    /// <summary>Writes the summary of <paramref name="metrics"/> to <paramref name="console"/>.</summary>
    public static void Write(IAnsiConsole console, RunMetrics metrics)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

        Row("target", metrics.Target);
        Row("flow", metrics.Flow);
        Row("iterations", metrics.Cancelled
            ? $"{metrics.CompletedIterations.ToString(CultureInfo.InvariantCulture)} of {metrics.Iterations.ToString(CultureInfo.InvariantCulture)} (interrupted)"
            : metrics.CompletedIterations.ToString(CultureInfo.InvariantCulture));
        Row("skipped steps", metrics.SkippedSteps.ToString(CultureInfo.InvariantCulture));
        Row("train time", $"{F(metrics.TrainSeconds, "F1")} s ({F(metrics.IterationsPerSecond, "F1")} it/s)");
        Row("final loss", F(metrics.FinalLoss, "F4"));
        Row("test NLL", $"{metrics.TestNllEstimate.Format("F4")} nats");
        Row("KL(p||q)", $"{metrics.KlEstimate.Format("F4")} nats");
        Row("grid integral of q", F(metrics.GridIntegral, "F4"));
        Row("eval samples", metrics.EvalSamples.ToString(CultureInfo.InvariantCulture));
        console.Write(table);
    }
}
