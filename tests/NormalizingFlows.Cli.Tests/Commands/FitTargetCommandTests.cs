using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit.Abstractions;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>nflows fit-target</c>: variational fits from the command line, and their usage errors.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FitTargetCommandTests(ITestOutputHelper log)
{
    [Fact]
    public void Should_Fit_The_Banana_Density_And_Report_Importance_Diagnostics()
    {
        using var folder = new TempFolder();
        var run = CommandTestKit.Succeeds(log, "fit-target", "--target", "banana", "--layers", "4", "--hidden", "32,32", "-n", "600", "--eval-samples", "20000", "-o", folder.Path);
        using var metrics = CommandTestKit.Metrics(folder.Path);
        var root = metrics.RootElement;
        Assert.Equal("banana", root.GetProperty("target").GetString());
        Assert.Equal("real-nvp", root.GetProperty("flow").GetString());
        Assert.Equal(600, root.GetProperty("completed_iterations").GetInt32());
        // 4 couplings x 2 networks x (1-32-32-1): the --hidden and --layers options reached the preset.
        Assert.Equal(4 * 2 * (2 * 32 + 33 * 32 + 33), root.GetProperty("flow_parameters").GetInt64());
        Assert.Contains("fit-target --target banana", root.GetProperty("command").GetString());
        double ess = root.GetProperty("ess_fraction").GetDouble();
        // Measured: ESS 58 %, KL(q||p) 0.094, log Z -0.002. (KL(p||q) stays large this early: reverse KL is mode-seeking and
        // the banana's far tails are not covered yet; it is reported, not asserted.)
        Assert.True(ess > 0.4, $"ESS fraction {ess} after 600 steps");
        Assert.True(root.GetProperty("reverse_kl").GetDouble() < 0.2);
        Assert.InRange(root.GetProperty("log_z").GetDouble(), -0.05, 0.05);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("kl").ValueKind);
        Assert.True(root.GetProperty("exact").GetBoolean());
        Assert.Equal(0.0, root.GetProperty("kl_standard_error").GetDouble());
        Assert.True(File.Exists(folder.Combine("losses.csv")));
        Assert.Contains("effective sample size", run.Output);
    }

    [Fact]
    public void Should_Report_Exact_Evaluation_When_A_2D_Residual_Flow_Is_Fitted()
    {
        using var folder = new TempFolder();
        var run = CommandTestKit.Succeeds(log, "fit-target", "--target", "banana", "--flow", "residual", "--layers", "2", "--hidden", "16", "-n", "20",
            "--eval-samples", "2000", "-o", folder.Path);
        using var metrics = CommandTestKit.Metrics(folder.Path);
        var root = metrics.RootElement;
        Assert.Equal("residual", root.GetProperty("flow").GetString());
        // The residual flow estimates its log-dets in training; its 2-D evaluation is exact, so the KL has no standard error.
        Assert.True(root.GetProperty("exact").GetBoolean());
        Assert.Equal(0.0, root.GetProperty("kl_standard_error").GetDouble());
        Assert.DoesNotContain("+-", run.Output);
    }

    [Theory]
    [InlineData("--target", "nowhere")]
    [InlineData("--flow", "planar", "--path-derivative")]
    [InlineData("--initial-beta", "1.5")]
    [InlineData("--hidden", "64,x")]
    [InlineData("--lr", "-1")]
    public void Should_Exit_With_Usage_Code_On_Bad_Options(params string[] args)
    {
        var run = CliRun.Of(new[] { "fit-target" }.Concat(args).ToArray());
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.Error);
        Assert.Contains(args[0], run.Error);
    }
}
