using System;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.IO;
using System.Threading;
using NormalizingFlows.Cli.Commands;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Runtime;

namespace NormalizingFlows.Cli;

/// <summary>The <c>nflows</c> command-line tool: wires the commands and maps parse errors to exit code 2.</summary>
public static class Program
{
    /// <summary>Process entry point.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The exit code: 0 ok, 1 failure during the run, 2 bad usage (nothing was run), 130 interrupted.</returns>
    public static int Main(string[] args)
    {
        // First, before anything loads libtorch: its OpenMP runtime reads the wait policy once, as it loads. Idle threads that
        // spin made training about 10x slower on a machine busy with other work (see Threads).
        NormalizingFlows.Runtime.Threads.UsePassiveWait();
        // Evaluating 100 000 points otherwise spends most of its time in page faults (see NativeAllocator).
        NormalizingFlows.Runtime.NativeAllocator.KeepLargeBuffers();
        // Ctrl+C and SIGTERM: the first stops training and writes the results; the second skips evaluation and figures, or
        // ends the process once the model, losses and metrics are written (see Interruption). System.CommandLine's own handler is off: it aborted on the second Ctrl+C.
        using var interruption = new Interruption(Console.Error);
        var context = new CliContext(Console.Out, Console.Error, Interactive: !Console.IsOutputRedirected) { Hurry = interruption.Hurry, ResultsWritten = interruption.ResultsWritten };
        return Run(args, context, interruption.Stop);
    }

    /// <summary>
    /// Runs <c>nflows</c> in-process with plain (non-interactive) output, as tests and scripts do.
    /// </summary>
    /// <param name="args">Command-line arguments, without the program name.</param>
    /// <param name="output">Receives progress lines, the summary and help.</param>
    /// <param name="error">Receives error messages; null to write them to <paramref name="output"/>.</param>
    /// <returns>The exit code: 0 ok, 1 failure during the run, 2 bad usage (nothing was run), 130 interrupted.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        return Run(args, new CliContext(output, error ?? output, Interactive: false), CancellationToken.None);
    }

    /// <summary>
    /// Runs <c>nflows</c> in-process as <see cref="Run(string[], TextWriter, TextWriter?)"/> does, with tokens that stand for a
    /// first Ctrl+C (<paramref name="stop"/>) and a second (<paramref name="hurry"/>).
    /// </summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken stop, CancellationToken hurry) =>
        Run(args, new CliContext(output, error, Interactive: false) { Hurry = hurry }, stop);

    private static int Run(string[] args, CliContext context, CancellationToken stop)
    {
        var threads = CliOptions.Threads();
        var root = new RootCommand("Train and evaluate normalizing flows (NormalizingFlows on TorchSharp).")
        {
            threads,
            DemoCommand.Create(context),
            TrainCommand.Create(context),
            FitTargetCommand.Create(context),
            SampleCommand.Create(context),
            LogProbCommand.Create(context),
            EvalCommand.Create(context),
            ExportCommand.Create(context),
        };
        CliHelp.Install(root, CliHelp.RootExamples);

        var parseResult = root.Parse(args);
        if (parseResult.Action is ParseErrorAction)
            return CliHelp.ReportUsageErrors(parseResult, context.Error);

        // Before the command runs, so that (in the tool) the count holds for every thread libtorch starts.
        if (parseResult.GetValue(threads) is { } count)
            NormalizingFlows.Runtime.Threads.Configure(count);

        // The commands run synchronously on this thread (TorchSharp's dispose scopes are thread-local).
        return parseResult.InvokeAsync(new InvocationConfiguration
        {
            Output = context.Output,
            Error = context.Error,
            // Commands report their own failures as one line and exit code 1.
            EnableDefaultExceptionHandler = false,
            // Signals are handled by Interruption, which cancels `stop`.
            ProcessTerminationTimeout = null,
        }, stop).GetAwaiter().GetResult();
    }
}
