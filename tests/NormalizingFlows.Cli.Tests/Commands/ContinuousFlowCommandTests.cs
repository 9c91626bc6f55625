using System;
using System.IO;
using System.Text.Json;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary>The continuous-flow presets from the command line: <c>demo --flow flow-matching</c>, <c>train --flow cnf</c> and
/// <c>train --flow flow-matching</c>.</summary>
[Collection(TrainingCollection.Name)]
public sealed class ContinuousFlowCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>Gaussian rows with mean [50, -3], std [10, 0.1] and correlation 0.9 (their exact NLL is <see cref="TrueNll"/>).</summary>
    private string WriteData(int rows, long seed)
    {
        Directory.CreateDirectory(folder.Path);
        using var scope = torch.NewDisposeScope();
        var z = torch.randn(new long[] { rows, 2 }, dtype: ScalarType.Float64, generator: new Generator((ulong)seed));
        var x1 = z[.., 0];
        var x2 = x1.mul(0.9).add(z[.., 1].mul(Math.Sqrt(1 - 0.81)));
        var data = torch.stack(new[] { x1.mul(10).add(50), x2.mul(0.1).sub(3) }, 1);
        string path = folder.Combine($"gauss-{seed}.csv");
        TabularFile.Write(path, data, new[] { "height", "offset" });
        return path;
    }

    private static readonly double TrueNll = Math.Log(2 * Math.PI) + Math.Log(10 * 0.1) + 0.5 * Math.Log(1 - 0.81) + 1;

    [Fact]
    public void Should_Train_By_Flow_Matching_When_Banana_Demo_Runs_With_Flow_Matching()
    {
        var run = CliRun.Of("demo", "banana", "--flow", "flow-matching", "-n", "600", "-b", "256", "--eval-samples", "4000", "-o", folder.Path);
        log.WriteLine(run.Output);
        log.WriteLine(run.Error);
        Assert.Equal(0, run.ExitCode);
        using var metrics = JsonDocument.Parse(File.ReadAllText(folder.Combine("metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("flow-matching", root.GetProperty("flow").GetString());
        Assert.True(root.GetProperty("exact").GetBoolean());
        double kl = root.GetProperty("kl").GetDouble();
        // The untrained flow (a standard normal) is about 30 nats from the banana; the best Gaussian 1.75.
        Assert.InRange(kl, -0.05, 1.0);
        Assert.InRange(root.GetProperty("grid_integral").GetDouble(), 0.9, 1.05);
        // The report describes the loss that was minimised.
        Assert.Contains("flow-matching loss", File.ReadAllText(folder.Combine("report.html")));
        // The saved model reproduces the reported test NLL (the solver is deterministic).
        using var flow = Flow.Load(folder.Combine("model.nflow"));
        Assert.IsType<Bijectors.ContinuousFlow>(flow.Bijector);
        double nll = Metrics.TestNegativeLogLikelihood(new Banana(), flow, 4000, root.GetProperty("eval_seed").GetInt64());
        Assert.Equal(root.GetProperty("test_nll").GetDouble(), nll, 1e-6);
    }

    [Theory]
    [InlineData("flow-matching", "30", 0.15)]
    [InlineData("cnf", "3", 1.0)]
    public void Should_Train_A_Continuous_Flow_On_A_Csv_File(string flowName, string epochs, double nllTolerance)
    {
        // Maximum likelihood through the solver is slow: three epochs only, and a looser check.
        string train = WriteData(2000, 1);
        string run = folder.Combine("run-" + flowName);
        var result = CliRun.Of("train", "--data", train, "--flow", flowName, "--hidden", "32,32", "--epochs", epochs, "--batch", "200",
            "--lr", "3e-3", "-o", run);
        log.WriteLine(result.Output);
        log.WriteLine(result.Error);
        Assert.Equal(0, result.ExitCode);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal(flowName, root.GetProperty("flow").GetString());
        double validation = root.GetProperty("best_validation_nll").GetDouble();
        log.WriteLine($"{flowName}: best validation NLL {validation:F4}, exact {TrueNll:F4}");
        Assert.True(Math.Abs(validation - TrueNll) < nllTolerance, $"validation NLL {validation:F4} against the exact {TrueNll:F4}");
        using var flow = Flow.Load(Path.Combine(run, "model.nflow"));
        Assert.False(flow.LogProbIsEstimate);
    }

    [Fact]
    public void Should_Refuse_Flow_Matching_When_Fitting_A_Density()
    {
        var run = CliRun.Of("fit-target", "--target", "banana", "--flow", "flow-matching", "-n", "5", "-o", folder.Combine("x"));
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("flow matching", run.Error);
        Assert.Contains("--flow cnf", run.Error);
    }
}
