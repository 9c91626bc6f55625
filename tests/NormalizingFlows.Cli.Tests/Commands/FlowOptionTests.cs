using System.IO;
using System.Text.Json;

namespace NormalizingFlows.Cli.Tests.Commands;

/// <summary><c>demo --flow NAME</c>: any catalogue flow on any catalogue target; <c>--flow list</c> prints the catalogue.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FlowOptionTests
{
    [Fact]
    public void Should_List_Every_Catalogue_Flow_When_Flow_Is_List()
    {
        var run = CliRun.Of("demo", "--flow", "list");
        Assert.Equal(0, run.ExitCode);
        foreach (var preset in FlowCatalog.All)
            Assert.Contains(preset.Name, run.Output);
    }

    [Fact]
    public void Should_Return_2_And_List_Flows_When_The_Flow_Is_Unknown()
    {
        var run = CliRun.Of("demo", "banana", "--flow", "bogus");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Unknown flow 'bogus'", run.Error);
        Assert.Contains("real-nvp", run.Error);
    }

    [Fact]
    public void Should_Train_A_Catalogue_Flow_On_A_Catalogue_Target()
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("demo", "two-moons", "--flow", "nice", "--iterations", "30", "--eval-samples", "2000", "--out", folder.Path);
        Assert.True(run.ExitCode == 0, run.Error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(folder.Combine("metrics.json")));
        Assert.Equal("two-moons", metrics.RootElement.GetProperty("target").GetString());
        Assert.Equal("nice", metrics.RootElement.GetProperty("flow").GetString());
        Assert.True(double.IsFinite(metrics.RootElement.GetProperty("kl").GetDouble()));
    }
}
