using System;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>nflows export MODEL --onnx OUT</c>: the written model scores rows as the library does; unknown graphs are usage
/// errors; a flow with a layer that has no ONNX description fails naming it and writes nothing.</summary>
public sealed class ExportCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private string SaveRealNvp()
    {
        Directory.CreateDirectory(folder.Path);
        using var flow = Flows.RealNvp(2, 4, new[] { 16 }, seed: 3);
        using var generator = new Generator(8);
        using (torch.no_grad()) foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.1));
        string path = folder.Combine("real-nvp.nflow");
        flow.Save(path);
        return path;
    }

    [Fact]
    public void Should_Write_A_Model_That_Scores_As_The_Library_When_Exporting_A_Flow()
    {
        string model = SaveRealNvp();
        string output = folder.Combine("model.onnx");
        var run = CliRun.Of("export", model, "--onnx", output);
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("graphs: log-prob, sample, sample-with-log-prob; float32", run.Output);

        using var scope = torch.NewDisposeScope();
        using var flow = Flow.Load(model);
        var x = torch.randn(new long[] { 50, 2 }, generator: new Generator(1)).mul(2.0);
        var expected = flow.LogProb(x).data<float>().ToArray();
        using var session = new InferenceSession(output);
        var input = NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x.data<float>().ToArray(), new[] { 50, 2 }));
        using var results = session.Run(new[] { input }, new[] { "log_prob" });
        var actual = results.First().AsTensor<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"row {i}: {actual[i]:R} from ONNX Runtime, {expected[i]:R} from the library.");
    }

    [Fact]
    public void Should_Write_Only_The_Chosen_Graphs_In_Float64_When_Asked()
    {
        string model = SaveRealNvp();
        string output = folder.Combine("density.onnx");
        var run = CliRun.Of("export", model, "--onnx", output, "--graphs", "log-prob", "--float64");
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(0, run.ExitCode);
        using var session = new InferenceSession(output);
        Assert.Equal(new[] { "x" }, session.InputMetadata.Keys.ToArray());
        Assert.Equal(new[] { "log_prob" }, session.OutputMetadata.Keys.ToArray());
        Assert.Equal(typeof(double), session.InputMetadata["x"].ElementType);
    }

    [Fact]
    public void Should_Report_A_Usage_Error_When_A_Graph_Name_Is_Unknown()
    {
        string model = SaveRealNvp();
        var run = CliRun.Of("export", model, "--onnx", folder.Combine("x.onnx"), "--graphs", "density");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown graph 'density'", run.Error);
        Assert.False(File.Exists(folder.Combine("x.onnx")));
    }

    [Fact]
    public void Should_Fail_Naming_The_Layer_And_Write_Nothing_When_A_Layer_Cannot_Be_Exported()
    {
        string model = ResidualModels.Save(folder, 2);
        string output = folder.Combine("residual.onnx");
        var run = CliRun.Of("export", model, "--onnx", output);
        log.WriteLine(run.Output + run.Error);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("ResidualBlock cannot be exported to ONNX", run.Error);
        Assert.False(File.Exists(output));
    }
}
