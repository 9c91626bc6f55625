using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using Xunit.Abstractions;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>nflows demo</c> end to end, in-process, with few iterations.</summary>
[Collection(TrainingCollection.Name)]
public sealed class DemoCommandTests(ITestOutputHelper log)
{
    private static readonly string[] NumericFields =
    {
        "iterations", "batch", "seed", "learning_rate", "weight_decay", "skipped_steps", "train_seconds",
        "iterations_per_second", "final_loss", "test_nll", "kl", "eval_samples", "grid_integral",
    };

    [Fact]
    public void Should_Write_Finite_Metrics_Losses_And_Model_When_UniformNormal_Demo_Runs()
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("demo", "uniform-normal", "--iterations", "50", "--eval-samples", "100000", "--out", folder.Path);
        log.WriteLine(run.Output);
        log.WriteLine(run.Error);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(folder.Combine("metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("uniform-normal", root.GetProperty("target").GetString());
        Assert.StartsWith("LuCoupling", root.GetProperty("flow").GetString());
        foreach (string field in NumericFields)
        {
            Assert.True(root.TryGetProperty(field, out var value), $"metrics.json lacks {field}.");
            Assert.Equal(JsonValueKind.Number, value.ValueKind);
            Assert.True(double.IsFinite(value.GetDouble()), $"{field} = {value} is not finite.");
        }
        Assert.Equal(50, root.GetProperty("iterations").GetInt32());
        Assert.Equal(512, root.GetProperty("batch").GetInt32());
        Assert.Equal(0, root.GetProperty("seed").GetInt64());
        Assert.Equal(1e-3, root.GetProperty("learning_rate").GetDouble());
        Assert.Equal(1e-5, root.GetProperty("weight_decay").GetDouble());
        Assert.Equal(100_000, root.GetProperty("eval_samples").GetInt64());
        Assert.InRange(root.GetProperty("grid_integral").GetDouble(), 0.9, 1.05);
        Assert.True(root.GetProperty("kl").GetDouble() > -0.02, "KL(p||q) cannot be clearly negative.");
        Assert.False(root.GetProperty("cancelled").GetBoolean());

        Assert.True(new FileInfo(folder.Combine("model.bin")).Length > 0, "model.bin is missing or empty.");
        var losses = File.ReadAllLines(folder.Combine("losses.csv"));
        Assert.Equal("iteration,loss", losses[0]);
        Assert.Equal(51, losses.Length);
        Assert.StartsWith("50,", losses[^1]);

        // Plain progress about every 10%, then the summary and where the files went.
        Assert.Contains("iteration 5/50  loss ", run.Output);
        Assert.Contains("iteration 50/50  loss ", run.Output);
        Assert.Contains("KL(p||q)", run.Output);
        Assert.Contains(folder.Path, run.Output);

        // model.bin holds the trained weights: loaded into a fresh flow, it gives the reported test NLL.
        using var flow = Flows.LuCoupling(2, 16, new[] { 64, 64 }, seed: 123);
        flow.load(folder.Combine("model.bin"));
        double nll = Metrics.TestNegativeLogLikelihood(new UniformNormal(), flow, 100_000, root.GetProperty("eval_seed").GetInt64());
        Assert.Equal(root.GetProperty("test_nll").GetDouble(), nll, 1e-6);
    }

    [Fact]
    public void Should_Train_RealNvp_When_Banana_Demo_Runs()
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("demo", "banana", "-n", "20", "-b", "256", "--seed", "3", "-o", folder.Path);
        log.WriteLine(run.Output);

        Assert.Equal(0, run.ExitCode);
        using var metrics = JsonDocument.Parse(File.ReadAllText(folder.Combine("metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("banana", root.GetProperty("target").GetString());
        Assert.StartsWith("RealNvp", root.GetProperty("flow").GetString());
        Assert.Equal(0.0, root.GetProperty("weight_decay").GetDouble());
        Assert.Equal(256, root.GetProperty("batch").GetInt32());
        Assert.Equal(3, root.GetProperty("seed").GetInt64());
        Assert.Equal(100_000, root.GetProperty("eval_samples").GetInt64());
        Assert.All(NumericFields, field => Assert.True(double.IsFinite(root.GetProperty(field).GetDouble()), field));
        Assert.True(File.Exists(folder.Combine("model.bin")));
        Assert.Equal(21, File.ReadAllLines(folder.Combine("losses.csv")).Length);
    }
}
