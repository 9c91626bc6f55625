using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using NormalizingFlows.Cli.Commands;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary>
/// <c>nflows train</c>: every documented option works on its own; the figures it prints and writes (split sizes, skipped steps,
/// the restored step, the bits/dim scale, training NLL on training rows only, validation NLL); <c>--dequantize uniform</c> and
/// the warning about discrete-looking columns; and <c>eval</c> of such models.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainReportingTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>300 rows of two continuous columns (Gaussian, 6 decimals: no ties).</summary>
    private string ContinuousData()
    {
        Directory.CreateDirectory(folder.Path);
        using var scope = torch.NewDisposeScope();
        var data = torch.randn(new long[] { 300, 2 }, ScalarType.Float64, generator: new Generator(1));
        string path = folder.Combine("continuous.csv");
        TabularFile.Write(path, data, new[] { "a", "b" });
        return path;
    }

    /// <summary>600 rows: a count column (integers 0..5), a continuous column and a 0/1 indicator.</summary>
    private string CountData(bool withContinuous = true)
    {
        Directory.CreateDirectory(folder.Path);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(2);
        var count = torch.randint(0, 6, new long[] { 600, 1 }, generator: generator).to(ScalarType.Float64);
        var gauss = torch.randn(new long[] { 600, 1 }, ScalarType.Float64, generator: generator);
        var flag = torch.randint(0, 2, new long[] { 600, 1 }, generator: generator).to(ScalarType.Float64);
        var data = withContinuous ? torch.cat(new[] { count, gauss, flag }, 1) : torch.cat(new[] { count, flag }, 1);
        string path = folder.Combine(withContinuous ? "counts.csv" : "levels.csv");
        TabularFile.Write(path, data, withContinuous ? new[] { "visits", "income", "insured" } : new[] { "visits", "insured" });
        return path;
    }

    private static JsonElement Metrics(string run) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json"))).RootElement;

    /// <summary>
    /// The value (and any input it needs) each option of <c>train</c> gets when the test runs it alone. An option of the command
    /// without an entry here fails the test, so a new option is covered as soon as it is added.
    /// </summary>
    private Dictionary<string, Func<string[]>> OptionValues(string data, string npy, string image, string checkpoint) => new()
    {
        ["--data"] = () => new[] { "--data", data },
        ["--npy"] = () => new[] { "--npy", npy },
        ["--images"] = () => new[] { "--images", image },
        ["--patch"] = () => new[] { "--images", image, "--patch", "4" },
        ["--patches"] = () => new[] { "--images", image, "--patches", "500" },
        ["--flow"] = () => new[] { "--flow", "maf" },
        ["--layers"] = () => new[] { "--layers", "2" },
        ["--hidden"] = () => new[] { "--hidden", "8,8" },
        ["--epochs"] = () => new[] { "--epochs", "1" },
        ["--batch"] = () => new[] { "--batch", "64" },
        ["--lr"] = () => new[] { "--lr", "3e-3" },
        ["--constant-lr"] = () => new[] { "--constant-lr" },
        ["--warmup"] = () => new[] { "--warmup", "2" },
        ["--clip"] = () => new[] { "--clip", "5" },
        ["--val-fraction"] = () => new[] { "--val-fraction", "0.2" },
        ["--patience"] = () => new[] { "--patience", "3" },
        ["--dequantize"] = () => new[] { "--dequantize", "none" },
        ["--no-standardize"] = () => new[] { "--no-standardize" },
        ["--seed"] = () => new[] { "--seed", "7" },
        ["--device"] = () => new[] { "--device", "cpu" },
        ["--dtype"] = () => new[] { "--dtype", "float64" },
        ["--checkpoint-every"] = () => new[] { "--checkpoint-every", "2" },
        ["--resume"] = () => new[] { "--resume", checkpoint },
        ["--max-rows"] = () => new[] { "--max-rows", "100000" },
        ["--max-line-bytes"] = () => new[] { "--max-line-bytes", "4096" },
        ["--out"] = () => Array.Empty<string>(), // every run below passes --out
    };

    [Fact]
    public void Should_Exit_Zero_When_Each_Documented_Train_Option_Is_Given_Alone()
    {
        string data = ContinuousData();
        string npy = folder.Combine("rows.npy");
        using (var rows = torch.randn(new long[] { 300, 2 }, ScalarType.Float64, generator: new Generator(3))) NpyFile.Write(npy, rows);
        string image = DataFile("camera.png");
        // A checkpoint of the run that --resume continues (the same data and options as the base run).
        string first = folder.Combine("first");
        Assert.Equal(0, CliRun.Of("train", "--data", data, "--epochs", "2", "--checkpoint-every", "1", "-o", first).ExitCode);
        var values = OptionValues(data, npy, image, Path.Combine(first, "checkpoint.nflow"));

        var options = TrainCommand.Create(new CliContext(TextWriter.Null, TextWriter.Null, false)).Options.Select(o => o.Name).ToArray();
        Assert.Contains("--patience", options);
        var missing = options.Where(o => !values.ContainsKey(o)).ToArray();
        Assert.True(missing.Length == 0, $"no test value for {string.Join(", ", missing)}: add it to OptionValues");
        var inputs = new[] { "--data", "--npy", "--images" };
        var failures = new List<string>();
        int i = 0;
        foreach (string option in options)
        {
            var given = values[option]();
            var args = new List<string> { "train" };
            // The input is --data unless the option brings its own; --epochs 2 unless the option is --epochs.
            if (!given.Any(inputs.Contains)) args.AddRange(new[] { "--data", data });
            args.AddRange(given);
            if (option != "--epochs") args.AddRange(new[] { "--epochs", "2" });
            args.AddRange(new[] { "-o", folder.Combine($"alone-{i++}") });
            var result = CliRun.Of(args.ToArray());
            log.WriteLine($"{string.Join(' ', args)} -> {result.ExitCode}");
            if (result.ExitCode != 0) failures.Add($"{string.Join(' ', args)}: exit {result.ExitCode}: {result.Error.Trim()}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Should_Early_Stop_With_Patience_On_The_Default_Validation_Split()
    {
        string data = ContinuousData();
        string run = folder.Combine("patience");
        var result = CliRun.Of("train", "--data", data, "--patience", "1", "--epochs", "30", "--lr", "3e-2", "-o", run);
        log.WriteLine(result.Output + result.Error);
        Assert.Equal(0, result.ExitCode);
        var metrics = Metrics(run);
        Assert.Equal(1, metrics.GetProperty("patience").GetInt32());
        Assert.Equal(30, metrics.GetProperty("validation_rows").GetInt64());
        // An explicit --val-fraction 0 still conflicts with --patience.
        var refused = CliRun.Of("train", "--data", data, "--patience", "1", "--val-fraction", "0", "-o", folder.Combine("refused"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--patience needs a validation split", refused.Error);
    }

    [Fact]
    public void Should_Report_Split_Sizes_Skipped_Steps_Restored_Step_And_Continuous_Scale_In_Summary_And_Metrics()
    {
        string data = ContinuousData();
        string run = folder.Combine("report");
        var result = CliRun.Of("train", "--data", data, "--epochs", "5", "--batch", "50", "--val-fraction", "0.2", "-o", run);
        log.WriteLine(result.Output + result.Error);
        Assert.Equal(0, result.ExitCode);
        var m = Metrics(run);
        Assert.Equal(240, m.GetProperty("training_rows").GetInt64());
        Assert.Equal(60, m.GetProperty("validation_rows").GetInt64());
        Assert.Equal(0, m.GetProperty("skipped_steps").GetInt32());
        Assert.True(m.GetProperty("restored_best").GetBoolean());
        int best = m.GetProperty("best_iteration").GetInt32();
        Assert.Equal(best, m.GetProperty("best_step_restored").GetInt32());
        Assert.InRange(best, 1, m.GetProperty("completed_steps").GetInt32());
        Assert.Equal("continuous", m.GetProperty("bits_per_dim_scale").GetString());
        Assert.Equal("none", m.GetProperty("dequantize").GetString());
        // The final model is the restored best one: its validation NLL is the best validation NLL.
        Assert.Equal(m.GetProperty("best_validation_nll").GetDouble(), m.GetProperty("validation_nll").GetDouble(), 5);
        double train = m.GetProperty("train_nll").GetDouble();
        Assert.Equal(train / (2 * Math.Log(2)), m.GetProperty("train_bits_per_dim").GetDouble(), 10);

        Assert.Contains("240 training, 60 validation", result.Output);
        Assert.Contains("skipped steps", result.Output);
        Assert.Contains($"restored step", result.Output);
        Assert.Contains($"{best} (best validation)", result.Output);
        Assert.Contains("bits/dim (continuous)", result.Output);
        Assert.Contains("continuous: nats / (D ln 2)", result.Output);
        Assert.Contains("training rows only", result.Output);
    }

    [Fact]
    public void Should_Compute_The_Training_NLL_On_The_Training_Rows_Of_The_Fit_Split_Only()
    {
        string data = ContinuousData();
        string run = folder.Combine("split");
        Assert.Equal(0, CliRun.Of("train", "--data", data, "--epochs", "10", "--batch", "64", "--seed", "5", "-o", run).ExitCode);
        var m = Metrics(run);
        using var scope = torch.NewDisposeScope();
        using var model = Flow.Load(Path.Combine(run, "model.nflow"));
        using var table = TabularFile.Read(data);
        var rows = table.Values.to(ScalarType.Float32);
        var (training, validation) = Fit.SplitRows(rows, new FitOptions { ValidationFraction = 0.1, Seed = 5 });
        double onTraining = NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(model, training), onValidation = NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(model, validation);
        double onAll = NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(model, rows);
        log.WriteLine($"train_nll {m.GetProperty("train_nll").GetDouble():F6}: training rows {onTraining:F6}, all rows {onAll:F6}, validation {onValidation:F6}");
        Assert.True(Math.Abs(m.GetProperty("train_nll").GetDouble() - onTraining) < 1e-5, "train_nll is the NLL of the training rows");
        Assert.True(Math.Abs(m.GetProperty("train_nll").GetDouble() - onAll) > 1e-4, "train_nll is not the NLL of all rows");
        Assert.True(Math.Abs(m.GetProperty("validation_nll").GetDouble() - onValidation) < 1e-5, "validation_nll is the NLL of the validation rows");
    }

    [Fact]
    public void Should_Warn_With_Counts_About_Discrete_Columns_And_Suggest_Dequantize()
    {
        string data = CountData();
        var result = CliRun.Of("train", "--data", data, "--epochs", "1", "-o", folder.Combine("warn"));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("warning: column 0 (visits) holds 6 distinct values in 600 rows (99.0 % tied), all integers", result.Error);
        Assert.Contains("warning: column 2 (insured) holds 2 distinct values in 600 rows", result.Error);
        Assert.DoesNotContain("(income)", result.Error);
        Assert.Contains("2 of 3 columns look discrete", result.Error);
        Assert.Contains("consider --dequantize uniform for the 2 integer-valued (visits, insured)", result.Error);
        var continuous = CliRun.Of("train", "--data", ContinuousData(), "--epochs", "1", "-o", folder.Combine("quiet"));
        Assert.DoesNotContain("warning", continuous.Error);
    }

    [Fact]
    public void Should_Dequantize_Integer_Columns_Record_It_In_Model_And_Metrics_And_Eval_The_Same_Way()
    {
        string data = CountData();
        string run = folder.Combine("dequantized");
        var result = CliRun.Of("train", "--data", data, "--dequantize", "uniform", "--epochs", "5", "--batch", "64", "-o", run);
        log.WriteLine(result.Output + result.Error);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("the integer-valued ones are dequantised", result.Error);
        var m = Metrics(run);
        Assert.Equal("uniform", m.GetProperty("dequantize").GetString());
        Assert.Equal(new[] { 0, 2 }, m.GetProperty("dequantized_columns").EnumerateArray().Select(e => e.GetInt32()));
        // Mixed integer and continuous columns: no bits/dim scale fits, nats only.
        Assert.Equal("none", m.GetProperty("bits_per_dim_scale").GetString());
        Assert.Equal(JsonValueKind.Null, m.GetProperty("train_bits_per_dim").ValueKind);
        Assert.Contains("dequantised data", m.GetProperty("density_of").GetString());
        Assert.Contains("dequantised data (2 integer columns", result.Output);

        string model = Path.Combine(run, "model.nflow");
        var metadata = NormalizingFlows.Serialization.ModelFile.ReadMetadata(model)!;
        Assert.Equal("uniform", metadata["dequantize"]!.GetValue<string>());
        Assert.Equal(new[] { 0, 2 }, metadata["dequantized_columns"]!.AsArray().Select(c => c!.GetValue<int>()));
        Assert.Equal("none", metadata["bits_per_dim_scale"]!.GetValue<string>());
        Assert.Equal(m.GetProperty("skipped_steps").GetInt32(), metadata["fit"]!["skipped_steps"]!.GetValue<int>());

        // eval dequantises the same columns: the NLL of the dequantised rows, with the seed it used, and the model's training facts.
        string json = folder.Combine("eval.json");
        var eval = CliRun.Of("eval", "-m", model, "-d", data, "--seed", "4", "--metrics", json);
        log.WriteLine(eval.Output + eval.Error);
        Assert.Equal(0, eval.ExitCode);
        Assert.Contains("dequantised data: 2 integer columns", eval.Output);
        using var written = JsonDocument.Parse(File.ReadAllText(json));
        var e = written.RootElement;
        Assert.Equal(4, e.GetProperty("dequantize_seed").GetInt64());
        Assert.Equal("none", e.GetProperty("bits_per_dim_scale").GetString());
        Assert.Equal(m.GetProperty("training_rows").GetInt64(), e.GetProperty("model_fit").GetProperty("training_rows").GetInt64());
        Assert.Equal(m.GetProperty("skipped_steps").GetInt32(), e.GetProperty("model_fit").GetProperty("skipped_steps").GetInt32());
        // Its NLL is that of the rows plus one seeded draw of noise, computed here independently.
        using (var scope = torch.NewDisposeScope())
        {
            using var flow = Flow.Load(model);
            using var table = TabularFile.Read(data);
            using var generator = new Generator(4);
            var noisy = DiscreteColumns.Dequantize(table.Values.to(ScalarType.Float64), new[] { 0, 2 }, generator).to(ScalarType.Float32);
            Assert.True(Math.Abs(NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(flow, noisy) - e.GetProperty("nll").GetDouble()) < 1e-4);
        }

        // logprob gives densities at the values as given, and says that they are not probabilities of the levels.
        var logprob = CliRun.Of("logprob", "-m", model, "-d", data, "-o", folder.Combine("logprob.csv"));
        Assert.Equal(0, logprob.ExitCode);
        Assert.Contains("trained on dequantised data", logprob.Error);

        // A file whose dequantised column holds a non-integer cannot be scored that way: one line naming the column and row.
        string bad = folder.Combine("bad.csv");
        File.WriteAllText(bad, "visits,income,insured\n1,0.5,0\n2.5,0.1,1\n");
        var refused = CliRun.Of("eval", "-m", model, "-d", bad);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Column 0", refused.Error);
        Assert.Contains("row 1", refused.Error);
    }

    [Fact]
    public void Should_Use_The_Level_Scale_When_Every_Column_Is_Dequantized_And_Refuse_Dequantize_Without_Integer_Columns()
    {
        string run = folder.Combine("levels");
        var result = CliRun.Of("train", "--data", CountData(withContinuous: false), "--dequantize", "uniform", "--epochs", "3", "-o", run);
        Assert.Equal(0, result.ExitCode);
        var m = Metrics(run);
        Assert.Equal("level", m.GetProperty("bits_per_dim_scale").GetString());
        Assert.Equal(m.GetProperty("train_nll").GetDouble() / (2 * Math.Log(2)), m.GetProperty("train_bits_per_dim").GetDouble(), 10);
        Assert.Contains("bits/dim (level)", result.Output);

        var none = CliRun.Of("train", "--data", ContinuousData(), "--dequantize", "uniform", "--epochs", "1", "-o", folder.Combine("nothing"));
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no column of", none.Error);
        var images = CliRun.Of("train", "--images", DataFile("camera.png"), "--dequantize", "uniform", "-o", folder.Combine("img"));
        Assert.Equal(2, images.ExitCode);
        Assert.Contains("already dequantised", images.Error);
    }

    [Fact]
    public void Should_Print_The_Continuous_Scale_And_The_Models_Training_In_Eval()
    {
        string data = ContinuousData();
        string run = folder.Combine("eval-continuous");
        Assert.Equal(0, CliRun.Of("train", "--data", data, "--epochs", "3", "-o", run).ExitCode);
        string json = folder.Combine("eval.json");
        var eval = CliRun.Of("eval", "-m", Path.Combine(run, "model.nflow"), "-d", data, "--metrics", json);
        log.WriteLine(eval.Output);
        Assert.Equal(0, eval.ExitCode);
        Assert.Contains("bits/dim (continuous)", eval.Output);
        // The table wraps long values: check the start of the model's training line here, every figure in the JSON below.
        Assert.Contains("0 skipped; 270 training", eval.Output);
        using var written = JsonDocument.Parse(File.ReadAllText(json));
        var e = written.RootElement;
        Assert.Equal("continuous", e.GetProperty("bits_per_dim_scale").GetString());
        Assert.Equal(e.GetProperty("nll").GetDouble() / (2 * Math.Log(2)), e.GetProperty("bits_per_dim").GetDouble(), 10);
        Assert.Equal(JsonValueKind.Null, e.GetProperty("dequantize_seed").ValueKind);
        var m = Metrics(run);
        var fit = e.GetProperty("model_fit");
        Assert.Equal(m.GetProperty("best_step_restored").GetInt32(), fit.GetProperty("best_step").GetInt32());
        Assert.Equal(270, fit.GetProperty("training_rows").GetInt64());
        Assert.Equal(30, fit.GetProperty("validation_rows").GetInt64());
        Assert.Equal(0, fit.GetProperty("skipped_steps").GetInt32());
    }

    [Fact]
    public void Should_Print_The_8_Bit_Scale_For_Image_Patches()
    {
        string run = folder.Combine("patches");
        var result = CliRun.Of("train", "--images", DataFile("camera.png"), "--patch", "2", "--patches", "1000", "--flow", "maf", "--epochs", "2", "-o", run);
        Assert.Equal(0, result.ExitCode);
        var m = Metrics(run);
        Assert.Equal("8-bit", m.GetProperty("bits_per_dim_scale").GetString());
        Assert.Equal(m.GetProperty("train_nll").GetDouble() / (4 * Math.Log(2)) + 8, m.GetProperty("train_bits_per_dim").GetDouble(), 10);
        Assert.Contains("bits/dim (8-bit)", result.Output);
    }

    private static string DataFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NormalizingFlows.slnx")))
                return Path.Combine(dir.FullName, "data", name);
        throw new InvalidOperationException("The repository root (NormalizingFlows.slnx) was not found above the test binaries.");
    }
}
