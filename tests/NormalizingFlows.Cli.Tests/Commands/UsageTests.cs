using System.IO;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary>Bad usage is caught while parsing: exit code 2, one line naming the problem, nothing run or written.</summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData("--iterations", "0")]
    [InlineData("--iterations", "-5")]
    [InlineData("--iterations", "abc")]
    [InlineData("-n", "0")]
    [InlineData("--batch", "0")]
    [InlineData("--batch", "-1")]
    [InlineData("-b", "1.5")]
    [InlineData("--eval-samples", "0")]
    public void Should_Return_2_And_Name_The_Option_When_A_Count_Is_Not_Positive(string option, string value)
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("demo", "uniform-normal", option, value, "--out", folder.Path);

        Assert.Equal(2, run.ExitCode);
        string name = option switch { "-n" => "--iterations", "-b" => "--batch", _ => option };
        Assert.Contains($"error: {name} must be a positive integer", run.Error);
        Assert.DoesNotContain("iteration 1", run.Output);
        Assert.False(Directory.Exists(folder.Path), "Nothing may be written on bad usage.");
    }

    [Fact]
    public void Should_Return_2_And_List_Known_Targets_When_The_Target_Is_Unknown()
    {
        var run = CliRun.Of("demo", "moons", "--iterations", "10");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Unknown target 'moons'", run.Error);
        Assert.Contains("uniform-normal", run.Error);
        Assert.Contains("banana", run.Error);
    }

    [Theory]
    [InlineData("demo", "uniform-normal", "--bogus")]
    [InlineData("train")]
    [InlineData("train", "--data", "a.csv", "--npy", "b.npy")]
    [InlineData("sample", "--count", "5")]
    public void Should_Return_2_When_The_Command_Line_Is_Malformed(params string[] args)
    {
        var run = CliRun.Of(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--help' for usage.", run.Error);
    }

    [Fact]
    public void Should_Return_2_When_No_Command_Is_Given()
    {
        Assert.Equal(2, CliRun.Of().ExitCode);
    }

    [Theory]
    [InlineData("nflows demo uniform-normal", "--help")]
    [InlineData("nflows demo banana --out runs/banana --seed 1", "demo", "--help")]
    public void Should_Show_Examples_And_Exit_Codes_When_Help_Is_Asked(string example, params string[] args)
    {
        var run = CliRun.Of(args);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Examples:", run.Output);
        Assert.Contains(example, run.Output);
        Assert.Contains("Exit codes:", run.Output);
        Assert.Contains("2    bad usage", run.Output);
    }

    [Fact]
    public void Should_Document_Every_Demo_Option_In_Help()
    {
        var run = CliRun.Of("demo", "--help");

        foreach (string option in new[] { "--out", "--iterations", "--batch", "--seed", "--eval-samples" })
            Assert.Contains(option, run.Output);
        Assert.Contains("uniform-normal, banana", run.Output);
    }
}
