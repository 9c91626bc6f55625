using System;
using System.IO;
using System.Text.Json;
using NormalizingFlows.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests;

/// <summary>The set-up the command tests share: the CSV data they train on, a run that must succeed, and its metrics.json.</summary>
internal static class CommandTestKit
{
    /// <summary>The exact mean NLL, in nats, of the rows <see cref="WriteCorrelatedGaussian"/> writes (in expectation):
    /// <c>log(2 pi) + log(10 * 0.1) + 0.5 log(1 - 0.81) + 1</c>.</summary>
    public static readonly double CorrelatedGaussianNll = Math.Log(2 * Math.PI) + Math.Log(10 * 0.1) + 0.5 * Math.Log(1 - 0.81) + 1;

    /// <summary>Writes <paramref name="rows"/> correlated Gaussian rows far from the origin on very different scales (mean [50, -3],
    /// std [10, 0.1], correlation 0.9; columns <c>height</c> and <c>offset</c>) to <c>gauss-&lt;seed&gt;.csv</c> in
    /// <paramref name="folder"/>, creating it, and returns the file's path.</summary>
    public static string WriteCorrelatedGaussian(TempFolder folder, int rows, long seed)
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

    /// <summary>Runs <c>nflows</c> with <paramref name="args"/>, writes what it printed to the test log, and checks that it exited 0.</summary>
    public static CliRun Succeeds(ITestOutputHelper log, params string[] args)
    {
        var run = CliRun.Of(args);
        log.WriteLine(run.Output);
        log.WriteLine(run.Error);
        Assert.Equal(0, run.ExitCode);
        return run;
    }

    /// <summary>The <c>metrics.json</c> of a run folder, parsed (the caller disposes it).</summary>
    public static JsonDocument Metrics(string runDirectory) => JsonDocument.Parse(File.ReadAllText(Path.Combine(runDirectory, "metrics.json")));
}
