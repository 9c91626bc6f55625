using System;
using System.Globalization;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>nflows eval</c> on residual flows: the exact NLL where affordable, otherwise the estimate with its standard error.</summary>
public sealed class EvalCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static string Row(string output, string name) =>
        output.Split('\n').First(l => l.TrimStart().StartsWith("│ " + name, StringComparison.Ordinal)).Split('│')[2].Trim();

    [Fact]
    public void Should_Print_The_Exact_NLL_When_The_Residual_Model_Is_Small()
    {
        string model = ResidualModels.Save(folder, 2);
        string data = ResidualModels.WriteData(folder, 2, 500, repeated: false);
        var run = CliRun.Of("eval", "-m", model, "-d", data);
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("exact", Row(run.Output, "log-density"));
        Assert.DoesNotContain("+-", run.Output);
        double nll = double.Parse(Row(run.Output, "NLL").Split(' ')[0], CultureInfo.InvariantCulture);

        using var scope = torch.NewDisposeScope();
        using var flow = Flow.Load(model);
        ResidualBlock.SetLogDet(flow, ResidualLogDet.Exact);
        using var rows = TabularFile.Read(data);
        double expected = -flow.LogProb(rows.Values.to(flow.parameters().First().dtype)).to(ScalarType.Float64).mean().ToDouble();
        Assert.Equal(expected, nll, 3);
    }

    [Fact]
    public void Should_Print_Standard_Error_When_The_Model_Is_Too_Wide_For_Exact_LogDets()
    {
        int wide = (int)ExactEvaluation.MaximumExactFeatures + 4;
        string model = ResidualModels.Save(folder, wide);
        string data = ResidualModels.WriteData(folder, wide, 200, repeated: false);
        var run = CliRun.Of("eval", "-m", model, "-d", data);
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.ExitCode);
        string nll = Row(run.Output, "NLL");
        Assert.Contains("+-", nll);
        Assert.Contains($"(estimate, {Metrics.DefaultRepeats} repeats)", nll);
        Assert.Contains("+-", Row(run.Output, "bits/dim"));
        Assert.Contains("stochastic estimate", Row(run.Output, "log-density"));
        double standardError = double.Parse(nll.Split("+-")[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.True(standardError > 0, $"the standard error should be positive: {nll}");
    }
}
