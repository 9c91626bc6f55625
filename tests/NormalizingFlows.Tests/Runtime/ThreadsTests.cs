using System;
using NormalizingFlows.Runtime;
using TorchSharp;

namespace NormalizingFlows.Tests.Runtime;

/// <summary>The thread setting in a process where libtorch is already loaded (the test host loads it first, to run
/// single-threaded): too late for the environment, so nothing in it changes; the count still applies to the calling thread.
/// The tool's test runs a fresh process and reads what libtorch's OpenMP runtime itself reports.</summary>
public sealed class ThreadsTests
{
    [Fact]
    public void Should_Leave_The_Environment_Alone_When_Libtorch_Is_Already_Loaded()
    {
        using var one = torch.ones(1);
        Assert.True(Threads.NativeRuntimeLoaded());
        string? before = Threads.WaitPolicy;

        bool passive = Threads.UsePassiveWait();

        Assert.Equal(before, Threads.WaitPolicy);
        if (before is null) Assert.False(passive, "Set after libtorch loaded, the policy would not be read: the call must say so.");
    }

    [Fact]
    public void Should_Use_The_Count_On_The_Calling_Thread()
    {
        int before = torch.get_num_threads();
        try
        {
            Threads.Configure(2);
            Assert.Equal(2, torch.get_num_threads());
            Threads.Configure(1);
            Assert.Equal(1, torch.get_num_threads());
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Fact]
    public void Should_Reject_A_Count_Below_One()
    {
        Assert.Throws<ArgumentOutOfRangeException>("threads", () => Threads.Configure(0));
        Assert.Throws<ArgumentOutOfRangeException>("threads", () => Threads.Configure(-3));
    }
}
