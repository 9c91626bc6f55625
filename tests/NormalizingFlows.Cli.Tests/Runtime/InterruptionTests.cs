using System;
using System.IO;
using System.Runtime.InteropServices;
using NormalizingFlows.Cli.Runtime;

namespace NormalizingFlows.Cli.Tests.Runtime;

/// <summary>What each Ctrl+C does (the policy alone; <c>InterruptTests</c> sends real signals to the real tool).</summary>
public sealed class InterruptionTests
{
    [Fact]
    public void Should_Stop_Then_Hurry_Then_End_When_Signals_Arrive_Before_The_Results_Are_Written()
    {
        using var error = new StringWriter();
        using var interruption = new Interruption(error);

        var first = new PosixSignalContext(PosixSignal.SIGINT);
        interruption.OnSignal(first);
        Assert.True(first.Cancel, "the first Ctrl+C does not end the process");
        Assert.True(interruption.Stop.IsCancellationRequested);
        Assert.False(interruption.Hurry.IsCancellationRequested);

        var second = new PosixSignalContext(PosixSignal.SIGINT);
        interruption.OnSignal(second);
        Assert.True(second.Cancel, "before the results are written, the second Ctrl+C lets the command write them");
        Assert.True(interruption.Hurry.IsCancellationRequested);

        var third = new PosixSignalContext(PosixSignal.SIGINT);
        interruption.OnSignal(third);
        Assert.False(third.Cancel, "the third Ctrl+C ends the process (the signal's default action)");
        Assert.Contains("stopping now", error.ToString());
    }

    [Fact]
    public void Should_End_At_Once_When_The_Second_Signal_Arrives_After_The_Results_Are_Written()
    {
        using var error = new StringWriter();
        using var interruption = new Interruption(error);

        var first = new PosixSignalContext(PosixSignal.SIGTERM);
        interruption.OnSignal(first);
        interruption.ResultsWritten();
        var second = new PosixSignalContext(PosixSignal.SIGINT);
        interruption.OnSignal(second);

        Assert.True(first.Cancel);
        Assert.False(second.Cancel, "with the model, losses and metrics on disk, a second Ctrl+C ends the process");
    }
}
