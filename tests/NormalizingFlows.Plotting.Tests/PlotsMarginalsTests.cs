using System;
using NormalizingFlows.Distributions;
using NormalizingFlows.Plotting.Tests.Support;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsMarginalsTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Write_A_Picture_Of_The_Requested_Size()
    {
        using var model = Models.Gaussian();
        var target = new GaussianTarget(1, -1, 0.6, 0.9);
        Picture.Load(Plots.Marginals(folder.File("marginals.png"), target, model, new Box(-2, 4, -5, 3), steps: 100, width: 1000, height: 400))
            .AssertPlot(1000, 400, minColors: 20);
    }

    [Fact]
    public void Should_Write_Only_The_Learned_Marginals_When_There_Is_No_Target()
    {
        using var model = Models.Gaussian();
        var learned = DensityGrid.Evaluate(model, new Box(-2, 4, -5, 3), 80);
        Picture.Load(Plots.Marginals(folder.File("learned.png"), null, learned, width: 900, height: 300)).AssertPlot(900, 300, minColors: 20);
    }

    [Fact]
    public void Should_Throw_Naming_The_Model_When_It_Is_Not_Two_Dimensional()
    {
        using var model = new StandardNormal(3);
        Assert.Throws<ArgumentException>("model", () => Plots.Marginals(folder.File("x.png"), new NormalizingFlows.Targets.UniformNormal(), model));
    }
}
