using System;
using NormalizingFlows.Data;
using NormalizingFlows.Tests.Training;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Data;

/// <summary>A RealNVP fitted through a standardisation to data in awkward units (means 100 and -50, scales 20 and 0.01)
/// reaches the test NLL of the true density, in data units.</summary>
[Collection(TrainingCollection.Name)]
public sealed class StandardizedTrainingTests(ITestOutputHelper output)
{
    private static readonly double[] Mean = { 100.0, -50.0 };
    private static readonly double[] Scale = { 20.0, 0.01 };
    private const double Correlation = 0.8;

    /// <summary>Rows of the correlated Gaussian, computed in float64 and rounded to float32 (the training type).</summary>
    private static Tensor Sample(long rows, long seed)
    {
        using var generator = new Generator((ulong)seed);
        var z = torch.randn(new long[] { rows, 2 }, dtype: ScalarType.Float64, generator: generator);
        var x1 = z[.., 0].mul(Scale[0]).add(Mean[0]);
        var x2 = z[.., 0].mul(Correlation).add(z[.., 1].mul(Math.Sqrt(1 - Correlation * Correlation))).mul(Scale[1]).add(Mean[1]);
        return torch.stack(new[] { x1, x2 }, 1).to(ScalarType.Float32);
    }

    /// <summary>Exact negative log-density of the true Gaussian, per row, in float64.</summary>
    private static Tensor TrueNll(Tensor x)
    {
        var u = x.to(ScalarType.Float64).sub(torch.tensor(Mean)).div(torch.tensor(Scale));
        double r = Correlation, det = 1 - r * r;
        var quadratic = u[.., 0].square().add(u[.., 1].square()).sub(u[.., 0].mul(u[.., 1]).mul(2 * r)).div(det);
        double logNormaliser = Math.Log(2 * Math.PI) + Math.Log(Scale[0] * Scale[1]) + 0.5 * Math.Log(det);
        return quadratic.mul(0.5).add(logNormaliser);
    }

    private static double MeanNll(Flow flow, Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        return flow.LogProb(x).to(ScalarType.Float64).mean().neg().ToDouble();
    }

    [Fact]
    public void Should_Reach_True_Test_Nll_When_RealNvp_Learns_Standardized_Data()
    {
        using var scope = torch.NewDisposeScope();
        var train = Sample(8000, seed: 1);
        var test = Sample(4000, seed: 2);
        double trueNll = TrueNll(test).mean().ToDouble();
        double entropy = Math.Log(2 * Math.PI * Math.E) + Math.Log(Scale[0] * Scale[1]) + 0.5 * Math.Log(1 - Correlation * Correlation);

        using var inner = Flows.RealNvp(features: 2, layers: 4, hiddenFeatures: new[] { 32, 32 }, seed: 0);
        double unstandardized = MeanNll(inner, test);
        var flow = inner.Standardized(train);
        double before = MeanNll(flow, test);
        var fit = Fit.ToData(flow, train, new FitOptions { Iterations = 600, BatchSize = 256, LearningRate = 3e-3, Seed = 3 });
        double after = MeanNll(flow, test);
        output.WriteLine($"entropy {entropy:F4}, true test NLL {trueNll:F4}; fresh flow without standardisation {unstandardized:F1}, " +
            $"standardised before training {before:F4}, after {after:F4} (gap {after - trueNll:F4} nats), final loss {fit.FinalLoss:F4}");

        Assert.True(Math.Abs(trueNll - entropy) < 0.05, $"The test rows should be typical: true NLL {trueNll:F4} vs entropy {entropy:F4}.");
        Assert.True(before - trueNll > 0.3, $"Before training the flow should miss the correlation: gap {before - trueNll:F4} nats.");
        Assert.True(Math.Abs(after - trueNll) < 0.05, $"After training the test NLL should be within 0.05 nats of the true one: {after:F4} vs {trueNll:F4}.");
        Assert.True(unstandardized > 1000, $"Without standardisation a fresh flow puts the data far out in its tails: NLL {unstandardized:F1}.");
    }
}
