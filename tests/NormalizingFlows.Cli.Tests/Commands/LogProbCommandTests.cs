using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>nflows logprob</c> on residual flows: exact log-densities where affordable (one point repeated gives one value),
/// otherwise the mean of several estimates with each row's standard error.</summary>
public sealed class LogProbCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Give_Zero_Spread_When_One_Point_Is_Repeated_On_A_2D_Residual_Model()
    {
        string model = ResidualModels.Save(folder, 2);
        string data = ResidualModels.WriteData(folder, 2, 1000, repeated: true);
        string output = folder.Combine("logprob.csv");
        var run = CliRun.Of("logprob", "-m", model, "-d", data, "-o", output);
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("exact log-densities", run.Output);
        Assert.DoesNotContain("+-", run.Output);

        using var scope = torch.NewDisposeScope();
        using var written = TabularFile.Read(output);
        Assert.Equal(new[] { "log_prob" }, written.ColumnNames);
        var values = written.Values.to(ScalarType.Float64).select(1, 0);
        Assert.Equal(1000, values.size(0));
        Assert.Equal(0.0, values.max().ToDouble() - values.min().ToDouble());

        // The value is the exact log-density, and the model's own power-series log-density of the same rows is the noisy
        // estimate that logprob used to print.
        using var flow = Flow.Load(model);
        using var rows = TabularFile.Read(data);
        var x = rows.Values.to(flow.parameters().First().dtype);
        var estimates = flow.LogProb(x).to(ScalarType.Float64);
        Assert.True(flow.LogProbIsEstimate);
        Assert.True(estimates.std().ToDouble() > 1e-3, "the raw power-series log-densities of one point should scatter.");
        ResidualBlock.SetLogDet(flow, ResidualLogDet.Exact);
        double exact = flow.LogProb(x.narrow(0, 0, 1)).ToDouble();
        Assert.Equal(exact, values[0].ToDouble(), 5);
        log.WriteLine($"exact {exact:F5}; raw estimates: std {estimates.std().ToDouble():F4} nats over 1000 copies");
    }

    [Fact]
    public void Should_Print_Standard_Error_When_The_Model_Is_Too_Wide_For_Exact_LogDets()
    {
        int wide = (int)ExactEvaluation.MaximumExactFeatures + 4;
        string model = ResidualModels.Save(folder, wide);
        string data = ResidualModels.WriteData(folder, wide, 50, repeated: false);
        string output = folder.Combine("logprob-wide.csv");
        var run = CliRun.Of("logprob", "-m", model, "-d", data, "-o", output);
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("stochastic estimate", run.Output);
        Assert.Contains($"+-", run.Output);
        Assert.Contains($"(estimate, {Metrics.DefaultRepeats} repeats)", run.Output);
        Assert.Contains("estimated log-densities", run.Output);

        using var scope = torch.NewDisposeScope();
        using var written = TabularFile.Read(output);
        Assert.Equal(new[] { "log_prob", "log_prob_se" }, written.ColumnNames);
        var standardErrors = written.Values.to(ScalarType.Float64).select(1, 1);
        Assert.True(standardErrors.min().ToDouble() > 0, "every row's repeated estimates should differ (fresh probes per repeat).");
        Assert.True(standardErrors.isfinite().all().ToBoolean());
    }
}
