using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using NormalizingFlows.Cli.Tests.Commands;
using NormalizingFlows.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Output;

/// <summary><c>nflows train</c> writes report.html with its figures, as <c>nflows demo</c> does.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainReportTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>Rows of correlated Gaussian columns, written as a CSV file with the given column names.</summary>
    private string WriteData(string name, int rows, params string[] columns)
    {
        Directory.CreateDirectory(folder.Path);
        using var scope = torch.NewDisposeScope();
        var z = torch.randn(new long[] { rows, columns.Length }, dtype: ScalarType.Float64, generator: new Generator(7));
        var data = z.add(z[.., 0..1].mul(0.8)).mul(3).add(10);
        string path = folder.Combine(name);
        TabularFile.Write(path, data, columns);
        return path;
    }

    private static string G6(double value) => value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);

    private static int EmbeddedImages(string html) => Regex.Matches(html, "src=\"data:image/png;base64,").Count;

    [Fact]
    public void Should_Write_A_Report_With_Curve_Density_And_Samples_When_The_Data_Has_Two_Columns()
    {
        string data = WriteData("pairs2.csv", 1200, "height", "weight");
        string run = folder.Combine("run2");
        var result = CliRun.Of("train", "--data", data, "--layers", "2", "--hidden", "16", "--epochs", "3", "--batch", "128",
            "--val-fraction", "0.2", "-o", run);
        log.WriteLine(result.Output);
        log.WriteLine(result.Error);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Error);
        Assert.Contains("and report.html to", result.Output);

        foreach (string figure in new[] { "training.png", "density.png", "samples.png" })
            Assert.True(new FileInfo(Path.Combine(run, figure)).Length > 1000, $"{figure} is missing or tiny");
        Assert.False(File.Exists(Path.Combine(run, "pairs.png")));

        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var root = metrics.RootElement;
        // The command that reproduces the run, the configuration and the metrics as metrics.json holds them, and three figures.
        Assert.Contains(WebUtility.HtmlEncode(root.GetProperty("command").GetString()!), html);
        Assert.Contains("<h2>Configuration</h2>", html);
        Assert.Contains("<h2>Metrics</h2>", html);
        Assert.Contains(">training NLL (nats per row)</th><td class=\"value\">" + G6(root.GetProperty("train_nll").GetDouble()) + "</td>", html);
        Assert.Contains(">best validation NLL (nats per row)</th><td class=\"value\">" + G6(root.GetProperty("best_validation_nll").GetDouble()) + "</td>", html);
        Assert.Contains(">rows</th><td class=\"value\">1200</td>", html);
        Assert.Contains("validation loss", html);
        Assert.Equal(3, EmbeddedImages(html));
    }

    [Fact]
    public void Should_Write_A_Report_With_Pair_Plots_When_The_Data_Has_More_Columns()
    {
        string data = WriteData("pairs3.csv", 800, "a", "b", "c");
        string run = folder.Combine("run3");
        var result = CliRun.Of("train", "--data", data, "--layers", "2", "--hidden", "16", "--epochs", "2", "--batch", "128",
            "--val-fraction", "0", "-o", run);
        log.WriteLine(result.Output);
        log.WriteLine(result.Error);
        Assert.Equal(0, result.ExitCode);
        Assert.True(new FileInfo(Path.Combine(run, "pairs.png")).Length > 1000, "pairs.png is missing or tiny");
        Assert.False(File.Exists(Path.Combine(run, "density.png")));
        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Equal(2, EmbeddedImages(html));
        Assert.Contains("every pair of the first 3 of 3 columns", html);
        Assert.DoesNotContain("validation loss", html);
    }
}
