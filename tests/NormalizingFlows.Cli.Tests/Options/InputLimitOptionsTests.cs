using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Tests.Options;

/// <summary>The options that change the limits on untrusted input: a file over a lowered limit is refused with a message that
/// names the option; under it (or at the defaults) the same command succeeds.</summary>
public sealed class InputLimitOptionsTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private string Data(int rows)
    {
        Directory.CreateDirectory(folder.Path);
        string path = folder.Combine($"rows-{rows}.csv");
        using var values = torch.randn(new long[] { rows, 2 }, ScalarType.Float64, generator: new Generator(5));
        TabularFile.Write(path, values, new[] { "a", "b" });
        return path;
    }

    private string Model()
    {
        string run = folder.Combine("run");
        var trained = CliRun.Of("train", "--data", Data(300), "--epochs", "1", "--layers", "2", "--hidden", "8,8", "-o", run);
        Assert.Equal(0, trained.ExitCode);
        return Path.Combine(run, "model.nflow");
    }

    private CliRun Run(params string[] args)
    {
        var run = CliRun.Of(args);
        log.WriteLine($"{string.Join(' ', args)} -> {run.ExitCode}\n{run.Output}{run.Error}");
        return run;
    }

    [Fact]
    public void Should_Refuse_A_Data_File_With_More_Rows_Than_Max_Rows()
    {
        string data = Data(300);
        var refused = Run("train", "--data", data, "--epochs", "1", "--max-rows", "100", "-o", folder.Combine("refused"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("more than 100 data rows", refused.Error);
        Assert.Contains("--max-rows", refused.Error);
        Assert.Equal(0, Run("train", "--data", data, "--epochs", "1", "--max-rows", "300", "-o", folder.Combine("allowed")).ExitCode);
    }

    [Fact]
    public void Should_Refuse_A_Line_Longer_Than_Max_Line_Bytes()
    {
        string model = Model();
        string data = Data(50);
        var refused = Run("logprob", "-m", model, "-d", data, "-o", folder.Combine("lp.csv"), "--max-line-bytes", "8");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("longer than 8 characters", refused.Error);
        Assert.Contains("--max-line-bytes", refused.Error);
        Assert.Equal(0, Run("logprob", "-m", model, "-d", data, "-o", folder.Combine("lp.csv"), "--max-line-bytes", "4096").ExitCode);
    }

    [Theory]
    [InlineData("eval", "--max-model-parameters", "10", "--max-model-parameters")]
    [InlineData("sample", "--max-model-parameters", "10", "--max-model-parameters")]
    [InlineData("logprob", "--max-model-bytes", "100", "--max-model-bytes")]
    public void Should_Refuse_A_Model_Over_A_Lowered_Limit(string command, string option, string value, string named)
    {
        string model = Model();
        string data = Data(50);
        string[] Args(params string[] extra)
        {
            var args = command switch
            {
                "sample" => new[] { "sample", "-m", model, "-n", "10", "-o", folder.Combine("s.csv") },
                "logprob" => new[] { "logprob", "-m", model, "-d", data, "-o", folder.Combine("lp.csv") },
                _ => new[] { "eval", "-m", model, "-d", data },
            };
            return args.Concat(extra).ToArray();
        }
        var refused = Run(Args(option, value));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains(named, refused.Error);
        Assert.Equal(0, Run(Args()).ExitCode);
    }

    [Theory]
    [InlineData("--max-rows", "0")]
    [InlineData("--max-line-bytes", "3000000000")]
    [InlineData("--max-rows", "many")]
    public void Should_Reject_A_Limit_That_Is_Not_A_Positive_Integer_In_Range(string option, string value)
    {
        var run = Run("train", "--data", Data(20), option, value, "-o", folder.Combine("bad"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(option, run.Error);
        Assert.False(Directory.Exists(folder.Combine("bad")));
    }
}
