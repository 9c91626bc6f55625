using System;
using System.Diagnostics;
using System.IO;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>--threads</c> and the passive wait, read back from libtorch's own OpenMP runtime: a fresh <c>nflows</c> process
/// with <c>OMP_DISPLAY_ENV=true</c> prints the settings the runtime took when it loaded.</summary>
[Collection(TrainingCollection.Name)]
public sealed class ThreadsOptionTests
{
    [Fact]
    public void Should_Start_Libtorch_With_Sleeping_Idle_Threads_And_The_Chosen_Count()
    {
        string report = RunTool(policy: null, "--threads", "1");

        Assert.Contains("OMP_WAIT_POLICY = 'PASSIVE'", report);
        Assert.Contains("OMP_NUM_THREADS = '1'", report);
    }

    [Fact]
    public void Should_Keep_The_Wait_Policy_The_Environment_Sets()
    {
        string report = RunTool(policy: "ACTIVE");

        Assert.Contains("OMP_WAIT_POLICY = 'ACTIVE'", report);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("many")]
    public void Should_Return_2_When_Threads_Is_Not_A_Positive_Count(string value)
    {
        var run = CliRun.Of("fit-target", "--target", "banana", "--threads", value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error: --threads must be a positive integer", run.Error);
    }

    /// <summary>Runs the built tool for a few steps in a new process and returns what it wrote (the OpenMP report included).</summary>
    private static string RunTool(string? policy, params string[] extra)
    {
        using var folder = new TempFolder();
        string tool = Path.Combine(AppContext.BaseDirectory, "nflows.dll");
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { tool, "fit-target", "--target", "banana", "--iterations", "2", "--eval-samples", "100", "--out", folder.Path })
            start.ArgumentList.Add(arg);
        foreach (string arg in extra) start.ArgumentList.Add(arg);
        foreach (string name in new[] { "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "MKL_NUM_THREADS" }) start.Environment.Remove(name);
        if (policy is not null) start.Environment["OMP_WAIT_POLICY"] = policy;
        start.Environment["OMP_DISPLAY_ENV"] = "true";

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "nflows did not finish within two minutes.");
        string all = output + error.Result;
        Assert.True(process.ExitCode == 0, $"nflows exited with {process.ExitCode}:\n{all}");
        return all;
    }
}
