using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using Xunit.Abstractions;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary>Ctrl+C on the real <c>nflows</c> process (the built tool as a child process, SIGINT sent with <c>kill -INT</c>).</summary>
[Collection(TrainingCollection.Name)]
public sealed class InterruptTests(ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Exit_130_With_The_Model_Losses_And_Metrics_When_Ctrl_C_Is_Pressed_Twice()
    {
        if (OperatingSystem.IsWindows()) return;
        string run = folder.Combine("run");
        // Redirected output shows a progress line every 10 % (400 steps): the first one says training is under way.
        using var nflows = new ChildProcess("demo", "banana", "--iterations", "4000", "--eval-samples", "1000", "--out", run);

        // The first Ctrl+C during training, and the second as soon as the first is acknowledged.
        Assert.True(nflows.WaitForOutput("iteration 400/", Patience), "training is under way\n" + nflows.Transcript);
        nflows.Interrupt();
        Assert.True(nflows.WaitForError("stopping after the current step", Patience), "the first Ctrl+C is acknowledged\n" + nflows.Transcript);
        nflows.Interrupt();
        var clock = Stopwatch.StartNew();
        bool exited = nflows.WaitForExit(Patience);
        log.WriteLine($"exited {clock.Elapsed.TotalSeconds:F1} s after the second Ctrl+C\n{nflows.Transcript}");

        Assert.True(exited, "the process ends after a second Ctrl+C\n" + nflows.Transcript);
        Assert.Equal(130, nflows.ExitCode);
        Assert.DoesNotContain("terminate called", nflows.Transcript);
        foreach (string name in new[] { "model.nflow", "losses.csv", "metrics.json" })
            Assert.True(File.Exists(Path.Combine(run, name)), $"{name} was written\n{nflows.Transcript}");
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.True(metrics.RootElement.GetProperty("cancelled").GetBoolean());
        Assert.True(File.ReadAllLines(Path.Combine(run, "losses.csv")).Length > 400, "the losses so far");
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
    }

    [Fact]
    public void Should_Exit_130_With_Every_File_When_Ctrl_C_Is_Pressed_Once()
    {
        if (OperatingSystem.IsWindows()) return;
        string run = folder.Combine("once");
        using var nflows = new ChildProcess("fit-target", "--target", "banana", "--iterations", "4000", "--eval-samples", "1000", "--out", run);
        Assert.True(nflows.WaitForOutput("iteration 400/", Patience), "training is under way\n" + nflows.Transcript);
        nflows.Interrupt();
        bool exited = nflows.WaitForExit(Patience);
        log.WriteLine(nflows.Transcript);

        Assert.True(exited, "the process ends after Ctrl+C\n" + nflows.Transcript);
        Assert.Equal(130, nflows.ExitCode);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.True(metrics.RootElement.GetProperty("cancelled").GetBoolean());
        Assert.Equal(JsonValueKind.Number, metrics.RootElement.GetProperty("log_z").ValueKind);
        Assert.True(File.Exists(Path.Combine(run, "model.nflow")));
        Assert.True(File.ReadAllLines(Path.Combine(run, "losses.csv")).Length > 400, "the losses so far");
    }

    /// <summary>The built <c>nflows</c> (beside the test binaries) as a child process, its output collected.</summary>
    private sealed class ChildProcess : IDisposable
    {
        private readonly Process process;
        private readonly StringBuilder output = new(), error = new();

        public ChildProcess(params string[] args)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nflows.dll"));
            foreach (string arg in args) start.ArgumentList.Add(arg);
            start.Environment["OMP_NUM_THREADS"] = "1";
            process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int ExitCode => process.ExitCode;

        public string Transcript
        {
            get
            {
                lock (output) lock (error) return $"stdout:\n{output}\nstderr:\n{error}";
            }
        }

        public bool WaitForOutput(string text, TimeSpan timeout) => WaitFor(output, text, timeout);

        public bool WaitForError(string text, TimeSpan timeout) => WaitFor(error, text, timeout);

        /// <summary>Sends SIGINT, as Ctrl+C in a terminal does, with <c>kill -INT</c>.</summary>
        public void Interrupt()
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
            kill.WaitForExit();
        }

        /// <summary>Waits for the process to end (and its output to be read); false if it is still running after <paramref name="timeout"/>.</summary>
        public bool WaitForExit(TimeSpan timeout)
        {
            if (!process.WaitForExit(timeout)) return false;
            process.WaitForExit();
            return true;
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }

        private bool WaitFor(StringBuilder buffer, string text, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                lock (buffer)
                    if (buffer.ToString().Contains(text, StringComparison.Ordinal)) return true;
                if (process.HasExited) return false;
                Thread.Sleep(50);
            }
            return false;
        }
    }
}
