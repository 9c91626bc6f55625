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

    [Fact]
    public void Should_Train_By_Flow_Matching_When_Banana_Demo_Runs_With_Flow_Matching()
    {
        // Coarse grids (the default 400 x 400 integral and 200 x 200 picture take minutes through the adaptive solver).
        CommandTestKit.Succeeds(log, "demo", "banana", "--flow", "flow-matching", "-n", "600", "-b", "256", "--eval-samples", "4000",
            "--grid-steps", "80", "-o", folder.Path);
        using var metrics = CommandTestKit.Metrics(folder.Path);
        var root = metrics.RootElement;
        Assert.Equal("flow-matching", root.GetProperty("flow").GetString());
        Assert.True(root.GetProperty("exact").GetBoolean());
        double kl = root.GetProperty("kl").GetDouble();
        // The untrained flow (a standard normal) is about 30 nats from the banana; the best Gaussian 1.75.
        Assert.InRange(kl, -0.05, 1.0);
        Assert.InRange(root.GetProperty("grid_integral").GetDouble(), 0.9, 1.05);
        Assert.Equal(80, root.GetProperty("grid_box").GetProperty("steps").GetInt32());
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
        string train = CommandTestKit.WriteCorrelatedGaussian(folder, 2000, 1);
        string run = folder.Combine("run-" + flowName);
        CommandTestKit.Succeeds(log, "train", "--data", train, "--flow", flowName, "--hidden", "32,32", "--epochs", epochs, "--batch", "200",
            "--lr", "3e-3", "-o", run);
        using var metrics = CommandTestKit.Metrics(run);
        var root = metrics.RootElement;
        Assert.Equal(flowName, root.GetProperty("flow").GetString());
        double validation = root.GetProperty("best_validation_nll").GetDouble();
        log.WriteLine($"{flowName}: best validation NLL {validation:F4}, exact {CommandTestKit.CorrelatedGaussianNll:F4}");
        Assert.True(Math.Abs(validation - CommandTestKit.CorrelatedGaussianNll) < nllTolerance, $"validation NLL {validation:F4} against the exact {CommandTestKit.CorrelatedGaussianNll:F4}");
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
