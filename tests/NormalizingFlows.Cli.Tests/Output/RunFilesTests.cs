using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using NormalizingFlows.Cli.Output;

namespace NormalizingFlows.Cli.Tests.Output;

/// <summary>The files a run writes are culture-independent and machine-readable.</summary>
public sealed class RunFilesTests
{
    [Fact]
    public void Should_Write_Losses_With_Invariant_Numbers_When_The_Culture_Uses_Decimal_Commas()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Path);
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            RunFiles.WriteLosses(folder.Combine("losses.csv"), new[] { 1.5, double.NaN, 0.25 });
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }

        Assert.Equal(new[] { "iteration,loss", "1,1.5", "2,NaN", "3,0.25" }, File.ReadAllLines(folder.Combine("losses.csv")));
    }

    [Fact]
    public void Should_Use_Snake_Case_Names_When_Metrics_Are_Written()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Path);
        var metrics = new RunMetrics
        {
            Target = "banana", Demo = "banana", Flow = "RealNvp", FlowParameters = 10, Iterations = 3, CompletedIterations = 3, Batch = 8,
            Seed = 0, EvalSeed = 1, Optimizer = "Adam", LearningRate = 1e-3, Schedule = "constant", WeightDecay = 0, SkippedSteps = 1,
            TrainSeconds = 0.5, IterationsPerSecond = 6, FinalLoss = double.NaN, TestNll = 3.5, Kl = 0.1,
            EvalSamples = 100_000, EvalSeconds = 0.2, GridIntegral = 0.99, GridBox = new GridBoxJson(-10, 40, -20, 20, 400),
            Cancelled = false, StartedUtc = "2025-01-01T00:00:00Z",
        };

        RunFiles.WriteMetrics(folder.Combine("metrics.json"), metrics);

        using var json = JsonDocument.Parse(File.ReadAllText(folder.Combine("metrics.json")));
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("skipped_steps").GetInt32());
        Assert.Equal(6, root.GetProperty("iterations_per_second").GetDouble());
        Assert.Equal(3.5, root.GetProperty("test_nll").GetDouble());
        Assert.Equal("NaN", root.GetProperty("final_loss").GetString());
        Assert.Equal(400, root.GetProperty("grid_box").GetProperty("steps").GetInt32());
        Assert.Equal("constant", root.GetProperty("schedule").GetString());
    }

    [Fact]
    public void Should_Write_To_A_Timestamped_Runs_Folder_When_No_Out_Is_Given()
    {
        using var folder = new TempFolder();
        string path = RunFiles.DefaultDirectory(folder.Path, "banana", new DateTime(2025, 3, 4, 5, 6, 7));
        Assert.Equal(Path.Combine(folder.Path, "runs", "banana-20250304-050607"), path);
        Directory.CreateDirectory(path);
        Assert.Equal(path + "-2", RunFiles.DefaultDirectory(folder.Path, "banana", new DateTime(2025, 3, 4, 5, 6, 7)));
    }

    [Fact]
    public void Should_Keep_The_Old_Losses_And_Leave_No_Temporary_File_When_A_Write_Fails_Midway()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Path);
        string path = folder.Combine("losses.csv");
        RunFiles.WriteLosses(path, new[] { 1.0, 2.0 });
        string before = File.ReadAllText(path);

        // 200 000 rows (several megabytes, so the writer has flushed to disk) and then a failure, as a full disk would cause.
        var failing = new FailingList(200_000);
        Assert.Throws<IOException>(() => RunFiles.WriteLosses(path, failing));

        Assert.True(failing.Read > 100_000, "the write got far before it failed");
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Equal(new[] { "losses.csv" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void Should_Replace_The_Whole_File_And_Leave_No_Temporary_File_When_Json_Is_Rewritten()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Path);
        string path = folder.Combine("metrics.json");
        File.WriteAllText(path, new string('x', 100_000));

        RunFiles.WriteJson(path, new System.Text.Json.Nodes.JsonObject { ["kl"] = 0.5 });

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(0.5, json.RootElement.GetProperty("kl").GetDouble());
        Assert.Equal(new[] { "metrics.json" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName).ToArray());
    }

    /// <summary>Losses that fail (as a full disk would) when row <c>count</c> is read.</summary>
    private sealed class FailingList(int count) : IReadOnlyList<double>
    {
        public int Read { get; private set; }

        public int Count => count + 1;

        public double this[int index]
        {
            get
            {
                if (index >= count) throw new IOException("No space left on device (simulated).");
                Read = index + 1;
                return 0.5 + index;
            }
        }

        public IEnumerator<double> GetEnumerator()
        {
            for (int i = 0; i < Count; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
