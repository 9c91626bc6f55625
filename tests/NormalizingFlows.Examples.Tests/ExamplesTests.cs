using System.IO;
using System.Linq;
using Xunit.Abstractions;

namespace NormalizingFlows.Examples.Tests;

/// <summary>Each example program runs in its quick mode and learns something measurable (the full runs are in the README).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExamplesCollection
{
    /// <summary>The examples train: one at a time.</summary>
    public const string Name = "examples";
}

[Collection(ExamplesCollection.Name)]
public sealed class ExamplesTests(ITestOutputHelper output)
{
    [Fact]
    public void Should_Learn_The_Uniform_Normal_Target_In_Quick_Mode()
    {
        using var log = new StringWriter();
        var report = global::Examples.UniformNormal.Tutorial.Run(quick: true, log);
        output.WriteLine(log.ToString());
        Assert.True(report.Kl < 0.3, $"KL {report.Kl}");
        Assert.InRange(report.GridIntegral, 0.98, 1.02);
        Assert.True(report.WorstMarginalError < 0.05, $"marginal error {report.WorstMarginalError}");
    }

    [Fact]
    public void Should_Show_The_Bijector_Contract_And_Learn_The_Banana_In_Quick_Mode()
    {
        using var log = new StringWriter();
        var report = global::Examples.Banana.Tutorial.Run(quick: true, log);
        output.WriteLine(log.ToString());
        Assert.True(report.RoundTripError < 1e-5);
        Assert.True(report.LogDetMismatch < 1e-5);
        Assert.True(report.KlFromSamples < 0.3, $"KL {report.KlFromSamples}");
        Assert.True(report.EssFromDensity > 0.05, $"ESS {report.EssFromDensity}");
    }

    [Fact]
    public void Should_Keep_Every_Layer_When_Sampling_The_Leaky_Coupling_Flow()
    {
        using var log = new StringWriter();
        var report = global::Examples.LeakyCoupling.Tutorial.Run(quick: true, log);
        output.WriteLine(log.ToString());
        Assert.Equal(18, report.Layers);
        Assert.Equal(19, report.SpreadPerLayer.Length);
        Assert.True(double.IsFinite(report.Kl));
        Assert.True(report.SpreadPerLayer.All(double.IsFinite));
        // The tutorial's tiny networks learn slowly (KL about 4 after its 1000 steps); in 100 steps the loss still falls clearly.
        Assert.True(report.LastLoss < 0.8 * report.FirstLoss, $"loss {report.FirstLoss} -> {report.LastLoss}");
    }

    [Fact]
    public void Should_Flag_The_Planted_Anomalies_When_MLNet_Scores_The_Exported_Flow()
    {
        using var log = new StringWriter();
        string folder = Path.Combine(Path.GetTempPath(), "nflows-onnx-anomalies-" + System.Guid.NewGuid().ToString("N"));
        try
        {
            var report = global::Examples.OnnxAnomalies.Tutorial.Run(quick: true, log, folder);
            output.WriteLine(log.ToString());
            Assert.Equal(2000, report.Rows);
            Assert.Equal(20, report.Flagged);
            // The planted rows lie far outside the learned density: the lowest 1% of 2000 densities are exactly them.
            Assert.Equal(report.Planted, report.PlantedFlagged);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
