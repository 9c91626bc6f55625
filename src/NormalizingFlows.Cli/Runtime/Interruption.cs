using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace NormalizingFlows.Cli.Runtime;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM for the <c>nflows</c> process, handled by the tool itself rather than System.CommandLine (whose
/// termination handler aborted the process on a second Ctrl+C and wrote nothing). Every outcome exits with code 130.
/// <list type="number">
/// <item>The first signal cancels <see cref="Stop"/>: training stops after the current step; the command writes the model,
/// <c>losses.csv</c> and <c>metrics.json</c> at once (and says so with <see cref="ResultsWritten"/>), then evaluates and draws
/// what was trained.</item>
/// <item>A second signal, once those files are written, ends the process at once (the signal's default action); before that, it
/// cancels <see cref="Hurry"/>: the command writes them and ends without evaluation, figures or report.</item>
/// <item>A third ends the process at once.</item>
/// </list>
/// Files written so far are complete, since every file is written atomically; one being written when the process ends is not
/// there at all (at most a hidden temporary file is left).
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly CancellationTokenSource hurry = new();
    private readonly TextWriter error;
    private readonly PosixSignalRegistration[] registrations;
    private int signals;
    private volatile bool resultsWritten;

    /// <summary>Starts handling SIGINT and SIGTERM; messages about them go to <paramref name="error"/>.</summary>
    public Interruption(TextWriter error)
    {
        this.error = error;
        registrations = new[]
        {
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        };
    }

    /// <summary>Cancelled by the first signal: stop training after the current step, then write the results.</summary>
    public CancellationToken Stop => stop.Token;

    /// <summary>Cancelled by the second signal: skip evaluation and figures; write the model, losses and metrics now.</summary>
    public CancellationToken Hurry => hurry.Token;

    /// <summary>Called by the command once the model, losses.csv and metrics.json are written: a second signal may now end the process.</summary>
    public void ResultsWritten() => resultsWritten = true;

    /// <summary>Handles one signal (also called by tests, with a context they make).</summary>
    internal void OnSignal(PosixSignalContext context)
    {
        int count = Interlocked.Increment(ref signals);
        if (count >= 3 || (count == 2 && resultsWritten))
        {
            // The default action ends the process now; the runtime does not run the command's remaining code.
            error.WriteLine("nflows: stopping now, without writing more (files already written are complete).");
            context.Cancel = false;
            return;
        }
        context.Cancel = true;
        if (count == 1)
        {
            error.WriteLine("nflows: stopping after the current step; a training run writes its model, losses.csv and metrics.json " +
                            "first (Ctrl+C again: skip the evaluation and figures).");
            stop.Cancel();
        }
        else
        {
            error.WriteLine("nflows: skipping the evaluation and figures; writing the model, losses.csv and metrics.json, then stopping " +
                            "(Ctrl+C again: stop at once, without them).");
            hurry.Cancel();
        }
    }

    /// <summary>Stops handling the signals.</summary>
    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        stop.Dispose();
        hurry.Dispose();
    }
}
