using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Cli.Commands;
using NormalizingFlows.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary>Outputs never overwrite inputs, and <c>sample</c> says when it wrote NaN or infinite values.</summary>
[Collection(TrainingCollection.Name)]
public sealed class OutputSafetyTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>A small RealNVP on two columns, saved; with <paramref name="nan"/> every weight is NaN.</summary>
    private string SaveModel(string name, bool nan)
    {
        Directory.CreateDirectory(folder.Path);
        using var scope = torch.NewDisposeScope();
        using var flow = FlowCatalog.Get("real-nvp").Create(new PresetOptions(2, Layers: 2, HiddenFeatures: new[] { 8 }, Seed: 0));
        if (nan)
        {
            using var noGrad = torch.no_grad();
            using var value = torch.tensor(double.NaN, dtype: ScalarType.Float32);
            foreach (var parameter in flow.parameters()) parameter.copy_(value.expand_as(parameter));
        }
        string path = folder.Combine(name);
        flow.Save(path);
        return path;
    }

    private string WriteRows(string name)
    {
        Directory.CreateDirectory(folder.Path);
        string path = folder.Combine(name);
        File.WriteAllText(path, "x0,x1\n0.5,1\n-1,2\n");
        return path;
    }

    [Fact]
    public void Should_Refuse_And_Keep_The_Input_When_An_Output_Path_Equals_An_Input_Path()
    {
        string model = SaveModel("model.nflow", nan: false);
        string data = WriteRows("rows.csv");
        byte[] dataBefore = File.ReadAllBytes(data), modelBefore = File.ReadAllBytes(model);

        var sameData = CliRun.Of("logprob", "--model", model, "--data", data, "--out", data);
        Assert.Equal(2, sameData.ExitCode);
        Assert.Contains($"--out {data} is also the --data file", sameData.Error);

        // The same file by another spelling.
        string spelled = Path.Combine(folder.Path, ".", "rows.csv");
        var sameModel = CliRun.Of("logprob", "--model", model, "--data", data, "--out", Path.Combine(folder.Path, "..", Path.GetFileName(folder.Path), "model.nflow"));
        Assert.Equal(2, sameModel.ExitCode);
        Assert.Contains("is also the --model file", sameModel.Error);
        Assert.Equal(2, CliRun.Of("logprob", "-m", model, "-d", data, "-o", spelled).ExitCode);

        var sample = CliRun.Of("sample", "--model", model, "--count", "5", "--out", model);
        Assert.Equal(2, sample.ExitCode);
        Assert.Contains("is also the --model file", sample.Error);

        string inRun = folder.Combine("run");
        Directory.CreateDirectory(inRun);
        string losses = Path.Combine(inRun, "losses.csv");
        File.Copy(data, losses);
        var train = CliRun.Of("train", "--data", losses, "--out", inRun);
        Assert.Equal(2, train.ExitCode);
        Assert.Contains("would overwrite the training data", train.Error);

        Assert.Equal(dataBefore, File.ReadAllBytes(data));
        Assert.Equal(modelBefore, File.ReadAllBytes(model));
        Assert.Equal(dataBefore, File.ReadAllBytes(losses));
    }

    [Fact]
    public void Should_Count_And_Report_NonFinite_Samples_And_Fail_On_Request_When_The_Model_Overflows()
    {
        string model = SaveModel("nan.nflow", nan: true);
        string samples = folder.Combine("samples.csv");

        var warned = CliRun.Of("sample", "--model", model, "--count", "40", "--out", samples);
        log.WriteLine(warned.Output + warned.Error);
        Assert.Equal(0, warned.ExitCode);
        Assert.Contains("warning: 40 of 40 samples (100 %) have NaN or infinite values", warned.Error);
        Assert.Contains("(40 with NaN or infinite values)", warned.Output);
        Assert.True(File.Exists(samples));

        string refused = folder.Combine("refused.csv");
        var failed = CliRun.Of("sample", "--model", model, "--count", "40", "--out", refused, "--fail-on-nonfinite");
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("40 of 40 samples", failed.Error);
        Assert.False(File.Exists(refused), "nothing is written when non-finite samples fail the command");

        string good = SaveModel("good.nflow", nan: false);
        var clean = CliRun.Of("sample", "--model", good, "--count", "40", "--out", folder.Combine("clean.csv"), "--fail-on-nonfinite");
        Assert.Equal(0, clean.ExitCode);
        Assert.Equal("", clean.Error);
    }

    [Fact]
    public void Should_Count_Only_The_Rows_With_A_NonFinite_Value_When_Some_Are()
    {
        using var scope = torch.NewDisposeScope();
        var rows = torch.tensor(new[] { 1.0, 2.0, double.NaN, 0.0, 3.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 5.0, 6.0 }).reshape(5, 2);
        Assert.Equal(3, SampleCommand.NonFiniteRows(rows));
    }
}
