using System;
using System.IO;
using System.Threading;
using Spectre.Console;

namespace NormalizingFlows.Cli;

/// <summary>Where a command writes and whether a person is watching a terminal.</summary>
/// <param name="Output">Normal output: progress, the summary, where files went.</param>
/// <param name="Error">Error messages.</param>
/// <param name="Interactive">True when output is a terminal: live progress bars instead of plain progress lines.</param>
internal sealed record CliContext(TextWriter Output, TextWriter Error, bool Interactive)
{
    /// <summary>Cancelled by a second Ctrl+C (see <see cref="Runtime.Interruption"/>): a command that was asked to stop skips
    /// what is optional (evaluation, figures, the report) and writes the model, losses and metrics at once.</summary>
    public CancellationToken Hurry { get; init; }

    /// <summary>Called by a command once what a first Ctrl+C promised (the model, losses.csv and metrics.json) is on disk: from
    /// then on a second Ctrl+C ends the process at once (see <see cref="Runtime.Interruption"/>).</summary>
    public Action ResultsWritten { get; init; } = static () => { };

    /// <summary>A Spectre.Console console over <see cref="Output"/>: detected capabilities on a terminal, plain text otherwise.</summary>
    public IAnsiConsole CreateConsole() => AnsiConsole.Create(Interactive
        ? new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Output) }
        : new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
}
