using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using NormalizingFlows.Data;
using NormalizingFlows.Distributions;
using NormalizingFlows.Images;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>One quantity the statistical regression check watches.</summary>
/// <param name="Name">Key in the thresholds file.</param>
/// <param name="Description">What is measured, and by which command.</param>
/// <param name="HigherIsBetter">True for a gain (the threshold is a floor), false for a divergence (a ceiling).</param>
internal sealed record RegressionCheck(string Name, string Description, bool HigherIsBetter);

/// <summary>
/// <c>regression</c>: a statistical regression check of what the flows learn. It runs the three tutorial demos as a user does
/// (<c>nflows demo</c> with its defaults, a separate process), a coupling neural spline flow on two-moons
/// (<c>nflows demo two-moons --flow nsf-coupling</c>) and a small MAF on 8x8 photograph patches from the repository's
/// <c>data/</c> against a full-covariance Gaussian, and compares each number with a threshold derived from five seeds
/// (mean plus three standard deviations for a divergence; mean minus three for a gain). <c>--derive</c> measures the seeds and
/// writes the thresholds file; without it one seed is measured and checked, and any quantity beyond its threshold fails.
/// </summary>
internal static class RegressionRun
{
    /// <summary>The quantities, in the order they are printed.</summary>
    public static readonly RegressionCheck[] Checks =
    {
        new("uniform-normal-kl", "nflows demo uniform-normal: KL(p||q), nats", false),
        new("banana-kl", "nflows demo banana: KL(p||q), nats", false),
        new("leaky-coupling-kl", "nflows demo leaky-coupling: KL(p||q), nats", false),
        new("two-moons-nsf-coupling-kl", "nflows demo two-moons --flow nsf-coupling: KL(p||q), nats", false),
        new("patches-maf-gain", "MAF minus full-covariance Gaussian, test log-likelihood of 8x8 patches, nats per patch", true),
    };

    /// <summary>How many standard deviations a threshold lies from the mean.</summary>
    public const double Deviations = 3;

    private static readonly string[] Tutorials = { "uniform-normal", "banana", "leaky-coupling" };

    /// <summary>Measures every quantity for one seed.</summary>
    public static Dictionary<string, double> Measure(long seed, string nflows, string dataFolder, TextWriter log)
    {
        string work = Path.Combine(Path.GetTempPath(), $"nflows-regression-{Environment.ProcessId}-{seed}");
        Directory.CreateDirectory(work);
        try
        {
            var values = new Dictionary<string, double>();
            string tutorials = Path.Combine(work, "tutorials");
            RunTool(nflows, log, "demo", "--seed", Text(seed), "--out", tutorials);
            foreach (var name in Tutorials)
                values[name + "-kl"] = ReadKl(Path.Combine(tutorials, name));
            string moons = Path.Combine(work, "two-moons");
            RunTool(nflows, log, "demo", "two-moons", "--flow", "nsf-coupling", "--seed", Text(seed), "--out", moons);
            values["two-moons-nsf-coupling-kl"] = ReadKl(moons);
            values["patches-maf-gain"] = PatchGain(seed, dataFolder, log);
            return values;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>Measures <paramref name="seeds"/> and writes the thresholds file: every seed's values, mean, standard deviation
    /// and threshold per quantity.</summary>
    public static JsonObject Derive(IReadOnlyList<long> seeds, string nflows, string dataFolder, TextWriter log)
    {
        if (seeds.Count < 2) throw new ArgumentException($"Expected at least two seeds to derive a spread; got {seeds.Count}.", nameof(seeds));
        var runs = seeds.Select(s =>
        {
            log.WriteLine($"== seed {s}");
            var v = Measure(s, nflows, dataFolder, log);
            log.WriteLine(string.Join(", ", v.Select(p => $"{p.Key} {Text(p.Value)}")));
            return v;
        }).ToList();
        var checks = new JsonObject();
        foreach (var check in Checks)
        {
            double[] v = runs.Select(r => r[check.Name]).ToArray();
            double mean = v.Average();
            double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
            checks[check.Name] = new JsonObject
            {
                ["description"] = check.Description,
                ["higher_is_better"] = check.HigherIsBetter,
                ["values"] = new JsonArray(v.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()),
                ["mean"] = mean,
                ["sd"] = sd,
                ["threshold"] = check.HigherIsBetter ? mean - Deviations * sd : mean + Deviations * sd,
            };
        }
        return new JsonObject
        {
            ["command"] = "nflows-bench regression --derive --seeds " + string.Join(",", seeds),
            ["derived_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["seeds"] = new JsonArray(seeds.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
            ["threads"] = torch.get_num_threads(),
            ["checks"] = checks,
        };
    }

    /// <summary>Measures one seed and compares each quantity with its threshold; prints a table and returns the failures.</summary>
    public static int Check(long seed, JsonObject thresholds, string nflows, string dataFolder, TextWriter log)
    {
        var values = Measure(seed, nflows, dataFolder, log);
        var checks = thresholds["checks"] as JsonObject
                     ?? throw new InvalidDataException("The thresholds file has no \"checks\" object.");
        int failures = 0;
        log.WriteLine($"{"quantity",-28} {"seed " + Text(seed),12} {"threshold",12} {"5-seed mean",12}  result");
        foreach (var check in Checks)
        {
            var entry = checks[check.Name] as JsonObject
                        ?? throw new InvalidDataException($"The thresholds file has no entry for {check.Name}; derive it again (--derive).");
            double threshold = entry["threshold"]!.GetValue<double>();
            double mean = entry["mean"]!.GetValue<double>();
            double value = values[check.Name];
            bool pass = double.IsFinite(value) && (check.HigherIsBetter ? value >= threshold : value <= threshold);
            if (!pass) failures++;
            log.WriteLine($"{check.Name,-28} {Text(value),12} {(check.HigherIsBetter ? ">= " : "<= ") + Text(threshold),12} {Text(mean),12}  {(pass ? "ok" : "WORSE")}");
        }
        return failures;
    }

    /// <summary>The test log-likelihood gain (nats per patch) of a small MAF over a full-covariance Gaussian on 8x8 patches of the
    /// repository's photographs: the same preparation as <c>realdata patches</c>, smaller (3 x 3 000 training patches, 3 000 test
    /// patches of an unseen photograph, MAF 3 x [128], 8 epochs).</summary>
    public static double PatchGain(long seed, string dataFolder, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed + 2000);
        var settings = new RealDataSettings(Quick: true, seed, torch.get_num_threads(), dataFolder, null, null);
        var pool = torch.cat(PatchesRun.TrainingImages.Select(n => PatchesRun.Prepare(ImageFile.Read(RealData.File(settings, n)), 3_000, generator)).ToArray(), 0);
        var test = PatchesRun.Prepare(ImageFile.Read(RealData.File(settings, PatchesRun.TestImage)), 3_000, generator);
        const double fraction = 0.15;
        var (train, validation) = RealData.SplitLikeFit(pool, fraction, seed);
        using var maf = Flows.Maf(PatchesRun.Dimensions, layers: 3, hiddenFeatures: new[] { 128 }, seed: seed).Standardized(train);
        RealData.TrainFlow(maf, pool, validation, new FitOptions
        {
            Epochs = 8,
            BatchSize = 256,
            LearningRate = 1e-3,
            ClipGradientNorm = 50,
            Seed = seed,
            ValidationFraction = fraction,
            Patience = 3,
            ProgressInterval = 1_000_000,
        });
        using var gaussian = MultivariateGaussian.FitTo(train);
        double gain = RealData.MeanNll(gaussian, test) - RealData.MeanNll(maf, test);
        log.WriteLine($"patches: MAF over the full Gaussian {Text(gain)} nats per patch ({clock.Elapsed.TotalSeconds:F0} s)");
        return gain;
    }

    /// <summary>The nflows tool of the repository's Release build.</summary>
    public static string DefaultTool() => RepositoryPath.Of("src", "NormalizingFlows.Cli", "bin", "Release", "net10.0", "linux-x64", "nflows");

    /// <summary>benchmarks/regression-thresholds.json in the repository.</summary>
    public static string ThresholdsFile() => RepositoryPath.Of("benchmarks", "regression-thresholds.json");

    /// <summary>The repository's own data folder (what a fresh clone has).</summary>
    public static string RepositoryData() => RepositoryPath.Of("data");

    private static void RunTool(string nflows, TextWriter log, params string[] arguments)
    {
        var clock = Stopwatch.StartNew();
        var start = new ProcessStartInfo(nflows) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {nflows}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string command = "nflows " + string.Join(" ", arguments);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{command} exited {process.ExitCode}: {stderr.Result}{Environment.NewLine}{stdout}");
        log.WriteLine($"{command}: {clock.Elapsed.TotalSeconds:F0} s");
    }

    private static double ReadKl(string runFolder)
    {
        string path = Path.Combine(runFolder, "metrics.json");
        var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path} is not a JSON object.");
        return json["kl"]?.GetValue<double>() ?? throw new InvalidDataException($"{path} has no \"kl\".");
    }

    private static string Text(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the thresholds as indented JSON.</summary>
    public static void Write(string path, JsonObject thresholds) =>
        File.WriteAllText(path, thresholds.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine);
}
