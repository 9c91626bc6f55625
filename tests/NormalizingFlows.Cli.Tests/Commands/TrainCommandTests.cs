using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using NormalizingFlows.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>nflows train</c>, <c>sample</c>, <c>logprob</c> and <c>eval</c> on a data file, end to end, and their failures.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Train_Save_And_Serve_A_Model_From_A_Csv_File()
    {
        string train = CommandTestKit.WriteCorrelatedGaussian(folder, 4000, 1), test = CommandTestKit.WriteCorrelatedGaussian(folder, 2000, 2);
        string run = folder.Combine("run");
        var result = CommandTestKit.Succeeds(log, "train", "--data", train, "--layers", "4", "--hidden", "32,32", "--epochs", "40", "--batch", "256",
            "--lr", "3e-3", "--checkpoint-every", "200", "-o", run);
        Assert.Contains("epoch", result.Output);
        Assert.Contains("validation", result.Output);
        using (var metrics = CommandTestKit.Metrics(run))
        {
            var root = metrics.RootElement;
            Assert.Equal(4000, root.GetProperty("rows").GetInt64());
            Assert.True(root.GetProperty("standardized").GetBoolean());
            // 3600 training rows / 256 = 14 steps per epoch.
            Assert.Equal(40 * 14, root.GetProperty("steps").GetInt32());
            double validation = root.GetProperty("best_validation_nll").GetDouble();
            log.WriteLine($"best validation NLL {validation:F4}, exact {CommandTestKit.CorrelatedGaussianNll:F4}");
            Assert.True(Math.Abs(validation - CommandTestKit.CorrelatedGaussianNll) < 0.1, $"validation NLL {validation:F4} against the exact {CommandTestKit.CorrelatedGaussianNll:F4}");
        }
        Assert.True(File.Exists(Path.Combine(run, "checkpoint.nflow")));
        Assert.Equal("iteration,loss,validation_loss", File.ReadLines(Path.Combine(run, "losses.csv")).First());

        // eval: the test file's NLL is close to the exact one, in the data's own units (the standardisation's log-det included).
        string model = Path.Combine(run, "model.nflow");
        var eval = CliRun.Of("eval", "--model", model, "--data", test);
        log.WriteLine(eval.Output);
        Assert.Equal(0, eval.ExitCode);
        double nll = double.Parse(eval.Output.Split('\n').First(l => l.Contains("NLL")).Split('│')[2].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(nll - CommandTestKit.CorrelatedGaussianNll) < 0.1, $"test NLL {nll:F4} against the exact {CommandTestKit.CorrelatedGaussianNll:F4}");

        // logprob: one value per row, equal to the loaded flow's LogProb.
        string logProbs = folder.Combine("logprob.csv");
        Assert.Equal(0, CliRun.Of("logprob", "-m", model, "-d", test, "-o", logProbs).ExitCode);
        using var written = TabularFile.Read(logProbs);
        Assert.Equal(new[] { "log_prob" }, written.ColumnNames);
        Assert.Equal(2000, written.Rows);
        Assert.True(Math.Abs(-nll - written.Values.to(ScalarType.Float64).mean().ToDouble()) < 1e-3, "eval's NLL is minus the mean of logprob's values");

        // sample: the header comes from the training file; samples have the data's scale.
        string samples = folder.Combine("samples.csv");
        Assert.Equal(0, CliRun.Of("sample", "-m", model, "-n", "3000", "--seed", "4", "-o", samples).ExitCode);
        using var drawn = TabularFile.Read(samples);
        Assert.Equal(new[] { "height", "offset" }, drawn.ColumnNames);
        Assert.Equal(3000, drawn.Rows);
        Assert.Equal(50, drawn.Values[.., 0].mean().ToDouble(), 0);
        Assert.Equal(0.1, drawn.Values[.., 1].std().ToDouble(), 1);
    }

    [Fact]
    public void Should_Resume_From_A_Checkpoint_And_Report_Where()
    {
        string train = CommandTestKit.WriteCorrelatedGaussian(folder, 1000, 3);
        string first = folder.Combine("first"), second = folder.Combine("second");
        string[] common = { "train", "--data", train, "--layers", "2", "--hidden", "8", "--epochs", "3", "--batch", "100", "--checkpoint-every", "5" };
        Assert.Equal(0, CliRun.Of(common.Concat(new[] { "-o", first }).ToArray()).ExitCode);
        var resumed = CliRun.Of(common.Concat(new[] { "-o", second, "--resume", Path.Combine(first, "checkpoint.nflow") }).ToArray());
        log.WriteLine(resumed.Output + resumed.Error);
        Assert.Equal(0, resumed.ExitCode);
        using var metrics = CommandTestKit.Metrics(second);
        Assert.Equal(27, metrics.RootElement.GetProperty("resumed_at").GetInt32());
        var other = CliRun.Of("train", "--data", train, "--layers", "2", "--hidden", "8", "--epochs", "3", "--batch", "50", "-o", folder.Combine("third"),
            "--resume", Path.Combine(first, "checkpoint.nflow"));
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("cannot resume from", other.Error);
        Assert.Contains("--batch: the checkpoint was made with 100, this run has 50", other.Error);
        Assert.False(Directory.Exists(folder.Combine("third")), "a refused resume leaves no empty run folder");
    }

    [Fact]
    public void Should_Refuse_To_Resume_Naming_Every_Difference_When_The_Data_File_Or_Options_Differ()
    {
        string train = CommandTestKit.WriteCorrelatedGaussian(folder, 1000, 3), other = CommandTestKit.WriteCorrelatedGaussian(folder, 1000, 4);
        string first = folder.Combine("first");
        string[] common = { "train", "--layers", "2", "--hidden", "8", "--epochs", "2", "--batch", "100", "--checkpoint-every", "5" };
        Assert.Equal(0, CliRun.Of(common.Concat(new[] { "--data", train, "-o", first }).ToArray()).ExitCode);
        Assert.True(File.Exists(Path.Combine(first, "checkpoint.run.json")), "the run record is kept beside the checkpoint");

        // Same rows, columns and options: only the values differ (the library's own checks cannot see it).
        var resumed = CliRun.Of(common.Concat(new[] { "--data", other, "--seed", "7", "-o", folder.Combine("second"),
            "--resume", Path.Combine(first, "checkpoint.nflow") }).ToArray());
        log.WriteLine(resumed.Error);
        Assert.Equal(2, resumed.ExitCode);
        Assert.Contains("training data: the checkpoint was made from " + train, resumed.Error);
        Assert.Contains("this run reads " + other, resumed.Error);
        Assert.Contains("--seed: the checkpoint was made with 0, this run has 7", resumed.Error);
        Assert.DoesNotContain("iteration", resumed.Output);
        Assert.False(Directory.Exists(folder.Combine("second")));

        // A copy of the same file under another name is the same data.
        string copy = folder.Combine("copy.csv");
        File.Copy(train, copy);
        var same = CliRun.Of(common.Concat(new[] { "--data", copy, "-o", folder.Combine("third"), "--resume", Path.Combine(first, "checkpoint.nflow") }).ToArray());
        log.WriteLine(same.Output + same.Error);
        Assert.Equal(0, same.ExitCode);
    }

    [Fact]
    public void Should_Write_The_Losses_So_Far_And_The_Checkpoint_When_Training_Fails_After_It_Started()
    {
        Directory.CreateDirectory(folder.Path);
        string data = folder.Combine("huge.csv");
        // Squares of 1e30 overflow float32: every step's loss is infinite, and the fit gives up after 50 of them in a row.
        File.WriteAllText(data, "a,b\n" + string.Concat(Enumerable.Repeat("1e30,-1e30\n", 200)));
        string run = folder.Combine("failed");
        var result = CliRun.Of("train", "--data", data, "--no-standardize", "--layers", "2", "--hidden", "8", "--epochs", "10", "--batch", "10",
            "--val-fraction", "0", "--checkpoint-every", "20", "-o", run);
        log.WriteLine(result.Output + result.Error);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error: train failed after 50 steps", result.Error);
        Assert.Equal(51, File.ReadAllLines(Path.Combine(run, "losses.csv")).Length);
        using (var metrics = CommandTestKit.Metrics(run))
        {
            Assert.True(metrics.RootElement.GetProperty("failed").GetBoolean());
            Assert.Equal(50, metrics.RootElement.GetProperty("completed_steps").GetInt32());
        }
        Assert.True(File.Exists(Path.Combine(run, "checkpoint.nflow")));
        Assert.False(File.Exists(Path.Combine(run, "model.nflow")), "a failed fit is not presented as a trained model");
    }

    [Fact]
    public void Should_Write_Model_Losses_And_Metrics_Without_Evaluation_When_Interrupted_Twice()
    {
        string train = CommandTestKit.WriteCorrelatedGaussian(folder, 500, 5);
        string run = folder.Combine("interrupted");
        using var stop = new System.Threading.CancellationTokenSource();
        using var hurry = new System.Threading.CancellationTokenSource();
        stop.Cancel();
        hurry.Cancel();
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = Program.Run(new[] { "train", "--data", train, "--layers", "2", "--hidden", "8", "--epochs", "2", "-o", run }, output, error, stop.Token, hurry.Token);
        log.WriteLine(output + error.ToString());

        Assert.Equal(130, code);
        Assert.Contains("(no evaluation)", output.ToString());
        Assert.True(File.Exists(Path.Combine(run, "model.nflow")));
        Assert.True(File.Exists(Path.Combine(run, "losses.csv")));
        using var metrics = CommandTestKit.Metrics(run);
        Assert.True(metrics.RootElement.GetProperty("cancelled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, metrics.RootElement.GetProperty("train_nll").ValueKind);
    }

    [Fact]
    public void Should_Leave_No_Run_Folder_When_The_Run_Fails_Before_Training()
    {
        Directory.CreateDirectory(folder.Path);
        string bad = folder.Combine("bad.csv");
        File.WriteAllText(bad, "a,b\n1,2\n3,x\n");
        string run = folder.Combine(Path.Combine("new", "run"));
        var result = CliRun.Of("train", "--data", bad, "-o", run);
        Assert.Equal(1, result.ExitCode);
        Assert.False(Directory.Exists(folder.Combine("new")), "the run folder and the parent it created are gone");
    }

    [Fact]
    public void Should_Train_On_Patches_Cut_From_A_Photograph()
    {
        string photo = DataFile("camera.png");
        string run = folder.Combine("patches");
        CommandTestKit.Succeeds(log, "train", "--images", photo, "--patch", "4", "--patches", "3000", "--flow", "maf", "--layers", "2", "--hidden", "16",
            "--epochs", "20", "--lr", "3e-3", "-o", run);
        using var metrics = CommandTestKit.Metrics(run);
        Assert.Equal(3000, metrics.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(16, metrics.RootElement.GetProperty("columns").GetInt32());
        // Neighbouring pixels of a photograph are strongly correlated: the flow beats independent uniform pixels on [0, 1]
        // (NLL 0) by a wide margin (measured: -18.6 nats after 200 steps).
        Assert.True(metrics.RootElement.GetProperty("best_validation_nll").GetDouble() < -10, "validation NLL of 4x4 photo patches");
    }

    /// <summary>A file of the repository's <c>data/</c> folder (the real data the tests use, vendored with its licence).</summary>
    private static string DataFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NormalizingFlows.slnx")))
                return Path.Combine(dir.FullName, "data", name);
        throw new InvalidOperationException("The repository root (NormalizingFlows.slnx) was not found above the test binaries.");
    }

    [Fact]
    public void Should_Fail_With_One_Line_Naming_File_And_Position_On_Bad_Input()
    {
        Directory.CreateDirectory(folder.Path);
        string bad = folder.Combine("bad.csv");
        File.WriteAllText(bad, "a,b\n1,2\n3,x\n");
        var run = CliRun.Of("train", "--data", bad, "-o", folder.Combine("out"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{bad}:3:2", run.Error);

        string notModel = folder.Combine("not-a-model.nflow");
        File.WriteAllText(notModel, "hello");
        var eval = CliRun.Of("eval", "--model", notModel, "--data", bad);
        Assert.Equal(1, eval.ExitCode);
        Assert.StartsWith("error: eval failed: " + notModel, eval.Error);

        if (!torch.cuda.is_available())
        {
            var cuda = CliRun.Of("train", "--data", bad, "--device", "cuda", "-o", folder.Combine("cuda"));
            Assert.Equal(1, cuda.ExitCode);
            Assert.Contains("CUDA is not available", cuda.Error);
        }
    }
}
