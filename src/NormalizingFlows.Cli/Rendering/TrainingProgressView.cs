using System;
using System.Globalization;
using NormalizingFlows.Training;
using Spectre.Console;

namespace NormalizingFlows.Cli.Rendering;

/// <summary>
/// Shows training progress: a live Spectre.Console progress bar on a terminal; on redirected output, a plain
/// line about every 10% of the run (<c>iteration 100/1000  loss 2.1234  skipped 0  elapsed 4.1s</c>).
/// </summary>
internal static class TrainingProgressView
{
    /// <summary>How often the fit should report: often enough for a smooth bar, or about ten lines in plain mode.</summary>
    public static int ReportInterval(int iterations, bool interactive) =>
        Math.Max(1, interactive ? iterations / 200 : iterations / 10);

    /// <summary>The plain progress line.</summary>
    public static string FormatLine(TrainingProgress progress) => string.Create(CultureInfo.InvariantCulture,
        $"iteration {progress.Iteration}/{progress.Iterations}{(progress.Epoch > 0 ? $"  epoch {progress.Epoch}" : "")}  loss {progress.Loss:F4}" +
        $"{(double.IsNaN(progress.ValidationLoss) ? "" : $"  validation {progress.ValidationLoss:F4}")}  skipped {progress.SkippedSteps}  elapsed {progress.Elapsed.TotalSeconds:F1}s");

    /// <summary>
    /// Runs <paramref name="train"/>, handing it the progress sink to pass to the fit. Reports are handled
    /// synchronously on the training thread (no <see cref="Progress{T}"/> posting to a thread pool).
    /// </summary>
    public static FitResult Run(CliContext context, IAnsiConsole console, string title, int iterations,
        Func<IProgress<TrainingProgress>, FitResult> train)
    {
        if (!context.Interactive)
            return train(new SynchronousProgress(p => context.Output.WriteLine(FormatLine(p))));

        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Describe(title, null), maxValue: iterations);
                var result = train(new SynchronousProgress(p =>
                {
                    task.Description = Describe(title, p);
                    task.Value = p.Iteration;
                }));
                task.StopTask();
                return result;
            });
    }

    private static string Describe(string title, TrainingProgress? progress) => progress is { } p
        ? Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{title}  loss {p.Loss:F4}{(double.IsNaN(p.ValidationLoss) ? "" : $"  validation {p.ValidationLoss:F4}")}  skipped {p.SkippedSteps}"))
        : Markup.Escape(title);

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
