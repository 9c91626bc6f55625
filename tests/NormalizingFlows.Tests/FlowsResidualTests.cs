using System;
using System.Diagnostics;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Training;
using NormalizingFlows.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>The residual flow's density, as the library's evaluation path computes it, is a density: trained briefly on the
/// 2-D targets it integrates to 1 over a grid holding its mass, while its raw power-series log-density says it is an
/// estimate.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FlowsResidualTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("banana")]
    [InlineData("two-moons")]
    [InlineData("checkerboard")]
    public void Should_Integrate_To_One_Over_Grid_When_Evaluated_Through_Metrics(string name)
    {
        using var scope = torch.NewDisposeScope();
        var target = TargetCatalog.Create(name);
        using var flow = Flows.ResidualFlow(features: 2, layers: 4, hiddenFeatures: new[] { 32, 32 }, seed: 0);
        var clock = Stopwatch.StartNew();
        var fit = Fit.ToData(flow, target, new FitOptions { Iterations = 200, BatchSize = 256, LearningRate = 3e-3, Seed = 0 });
        flow.eval();

        // The raw path is the stochastic estimate, and says so.
        Assert.True(flow.LogProbIsEstimate);
        Assert.All(flow.modules().OfType<ResidualBlock>(), b => Assert.Equal(ResidualLogDet.PowerSeries, b.LogDet));

        // A box that holds the flow's mass: the target's bounds widened by half on each side; checked with samples of q.
        var b = target.Bounds;
        double padX = b.Width / 2, padY = b.Height / 2;
        var box = new Box(b.XMin - padX, b.XMax + padX, b.YMin - padY, b.YMax + padY);
        double outside;
        using (var generator = new Generator(11))
        {
            var samples = flow.Sample(20_000, generator: generator);
            outside = 1 - box.Contains(samples).to(ScalarType.Float64).mean().ToDouble();
        }
        Assert.True(outside < 0.002, $"{name}: {outside:P2} of the flow's samples fall outside the grid box {box}; the integral would not measure its mass.");

        double integral = Metrics.GridIntegral(flow, box.XMin, box.XMax, box.YMin, box.YMax, steps: 500);
        double rawIntegral = RawGridIntegral(flow, box, 500);
        output.WriteLine($"{name}: grid integral {integral:F4} (exact log-dets through Metrics), raw power-series estimate {rawIntegral:F4}; " +
            $"{outside:P3} of samples outside {box}; final loss {fit.FinalLoss:F3} after {fit.Iterations} steps, {clock.Elapsed.TotalSeconds:F0} s");
        Assert.InRange(integral, 0.98, 1.02);
        Assert.True(flow.LogProbIsEstimate, "Metrics must leave the flow's own (estimating) mode in place.");
    }

    /// <summary>The midpoint rule over <paramref name="box"/> with the flow's own (power-series) log-densities.</summary>
    private static double RawGridIntegral(Flow flow, Box box, int steps)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (dtype, _) = (flow.parameters().First().dtype, 0);
        var grid = Metrics.Grid(box.XMin, box.XMax, box.YMin, box.YMax, steps, dtype);
        double sum = flow.LogProb(grid).to(ScalarType.Float64).exp().sum().ToDouble();
        return sum * box.Width / steps * box.Height / steps;
    }
}
