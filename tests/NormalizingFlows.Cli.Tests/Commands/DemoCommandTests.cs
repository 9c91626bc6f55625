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
        // A coupling flow's log-density is exact: no standard errors, one evaluation.
        Assert.True(root.GetProperty("exact").GetBoolean());
        Assert.Equal(1, root.GetProperty("eval_repeats").GetInt32());
        Assert.Equal(0.0, root.GetProperty("kl_standard_error").GetDouble());
        Assert.Equal(0.0, root.GetProperty("test_nll_standard_error").GetDouble());

        Assert.True(new FileInfo(folder.Combine("model.nflow")).Length > 0, "model.nflow is missing or empty.");
        // Beside it, the same flow for ONNX Runtime, and the report says how to use it.
        Assert.True(new FileInfo(folder.Combine("model.onnx")).Length > 0, "model.onnx is missing or empty.");
        Assert.Contains("OnnxFlow.Load", File.ReadAllText(folder.Combine("report.html")));
        var losses = File.ReadAllLines(folder.Combine("losses.csv"));
        Assert.Equal("iteration,loss", losses[0]);
        Assert.Equal(51, losses.Length);
        Assert.StartsWith("50,", losses[^1]);

        // Plain progress about every 10%, then the summary and where the files went.
        Assert.Contains("iteration 5/50  loss ", run.Output);
        Assert.Contains("iteration 50/50  loss ", run.Output);
        Assert.Contains("KL(p||q)", run.Output);
        Assert.Contains(folder.Path, run.Output);

        // model.nflow holds the architecture and the trained weights: loaded without the code that built it, it gives the reported test NLL.
        using var flow = Flow.Load(folder.Combine("model.nflow"));
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
        Assert.True(File.Exists(folder.Combine("model.nflow")));
        Assert.Equal(21, File.ReadAllLines(folder.Combine("losses.csv")).Length);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("4097")]
    [InlineData("many")]
    public void Should_Exit_With_Usage_Code_Naming_Grid_Steps_When_It_Is_Out_Of_Range(string value)
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("demo", "banana", "--grid-steps", value, "-o", folder.Path);
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--grid-steps", run.Error);
        Assert.False(Directory.Exists(folder.Path), "a refused run writes nothing");
    }

    private static readonly string[] Figures =
    {
        "target-samples.png", "densities.png", "training.png", "snapshots.png", "marginals.png", "samples.png", "trajectory.png", "trajectory.apng.png",
    };

    /// <summary>The most a demo's self-contained report may weigh: a page that mails and opens quickly (the animated layer path
    /// is a palette image of at most 48 frames; measured 2.4 MB for uniform-normal, the flow with the most layers, at 100 steps).</summary>
    private const long MaxReportBytes = 3L * 1024 * 1024;

    [Fact]
    public void Should_Run_The_Three_Tutorials_With_Figures_And_A_Report_Of_At_Most_3_MB_When_No_Name_Is_Given()
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("demo", "-n", "20", "--eval-samples", "5000", "-o", folder.Path);
        log.WriteLine(run.Output);
        log.WriteLine(run.Error);
        Assert.Equal(0, run.ExitCode);
        foreach (var (demo, target, optimizer) in new[] { ("uniform-normal", "uniform-normal", "Adam"), ("banana", "banana", "Adam"), ("leaky-coupling", "banana", "AdamW") })
        {
            string dir = System.IO.Path.Combine(folder.Path, demo);
            using var metrics = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(dir, "metrics.json")));
            Assert.Equal(demo, metrics.RootElement.GetProperty("demo").GetString());
            Assert.Equal(target, metrics.RootElement.GetProperty("target").GetString());
            Assert.Equal(optimizer, metrics.RootElement.GetProperty("optimizer").GetString());
            foreach (var figure in Figures)
                Assert.True(new FileInfo(System.IO.Path.Combine(dir, figure)).Length > 1000, $"{demo}/{figure} is missing or tiny");
            // The report is self-contained (figures embedded) and names the command that reproduces the run.
            string report = System.IO.Path.Combine(dir, "report.html");
            long bytes = new FileInfo(report).Length;
            log.WriteLine($"{demo}/report.html: {bytes} bytes");
            Assert.True(bytes <= MaxReportBytes, $"{demo}/report.html is {bytes} bytes, over {MaxReportBytes}.");
            string html = File.ReadAllText(report);
            Assert.Contains("nflows demo -n 20 --eval-samples 5000 -o", html);
            Assert.Equal(Figures.Length, System.Text.RegularExpressions.Regex.Matches(html, "src=\"data:image/png;base64,").Count);
        }
        using var leaky = Flow.Load(System.IO.Path.Combine(folder.Path, "leaky-coupling", "model.nflow"));
        Assert.Equal(18, ((NormalizingFlows.Bijectors.Chain)leaky.Bijector).Layers.Count);
    }

    [Fact]
    public void Should_Train_An_Image_Flow_On_Digits_And_Report_Split_Skipped_Steps_Best_Step_And_Bits_Scale()
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("demo", "digits", "-n", "60", "-b", "64", "-o", folder.Path);
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.ExitCode);
        using var metrics = JsonDocument.Parse(File.ReadAllText(folder.Combine("metrics.json")));
        var root = metrics.RootElement;
        foreach (var field in new[] { "test_bits_per_dim", "diagonal_gaussian_bits_per_dim", "full_gaussian_bits_per_dim" })
            Assert.InRange(root.GetProperty(field).GetDouble(), 0.5, Math.Log2(17) + 1);
        // Uniform over the 17 levels is exactly log2(17) bits per pixel.
        Assert.Equal(Math.Log2(17), root.GetProperty("uniform_bits_per_dim").GetDouble(), 12);
        foreach (var figure in new[] { "test-digits.png", "samples.png", "samples-t0.7.png", "training.png", "report.html", "model.nflow", "model.onnx" })
            Assert.True(File.Exists(folder.Combine(figure)), figure);

        // The split actually used: 1797 digits, round(15 %) for test, round(10 %) for validation, the rest (75 %) for training.
        int train = root.GetProperty("train_images").GetInt32(), validation = root.GetProperty("validation_images").GetInt32(), test = root.GetProperty("test_images").GetInt32();
        Assert.Equal((1347, 180, 270), (train, validation, test));
        Assert.Equal("1347/180/270 (75/10/15 %)", root.GetProperty("split").GetString());
        Assert.Contains("1347/180/270 (75/10/15 %)", run.Output);

        // Skipped steps, the best step and the scale are in metrics.json and agree with losses.csv.
        var rows = File.ReadAllLines(folder.Combine("losses.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(root.GetProperty("completed_iterations").GetInt32(), rows.Length);
        // A step is skipped when its loss or its gradient is not finite: at least the steps whose loss is not.
        int nonFinite = rows.Count(r => !double.IsFinite(double.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.InRange(root.GetProperty("skipped_steps").GetInt32(), nonFinite, rows.Length);
        var validationPoints = rows.Where(r => r[2].Length > 0)
            .Select(r => (Iteration: int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture), Loss: double.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Assert.NotEmpty(validationPoints);
        var best = validationPoints.OrderBy(v => v.Loss).First();
        Assert.Equal(best.Iteration, root.GetProperty("best_iteration").GetInt32());
        Assert.Equal(best.Loss, root.GetProperty("best_validation_nll_nats").GetDouble(), 9);
        Assert.True(root.GetProperty("restored_best").GetBoolean());
        Assert.Equal("discrete, 17 levels", root.GetProperty("bits_per_dim_scale").GetString());

        // The summary says the same.
        Assert.Contains($"{root.GetProperty("skipped_steps").GetInt32()} (non-finite)", run.Output);
        Assert.Contains($"step {best.Iteration} (val {best.Loss.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)} nats)", run.Output);
        Assert.Contains("discrete, 17 levels", run.Output);
    }
}
