using System;
using System.Linq;
using NormalizingFlows.Distributions;
using NormalizingFlows.Plotting.Tests.Support;
using TorchSharp;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsSamplesTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Write_A_Scatter_Of_The_Requested_Size()
    {
        var target = new GaussianTarget(1, -1, 0.5, 1);
        var picture = Picture.Load(Plots.Samples(folder.File("samples.png"), target, count: 2000, width: 640, height: 480));
        picture.AssertPlot(640, 480);
        Assert.True(CountBluish(picture) > 500, "Expected many blue marker pixels.");
    }

    [Fact]
    public void Should_Draw_A_Histogram_With_A_Colour_Bar_When_There_Are_Many_Points()
    {
        var target = new GaussianTarget(0, 0, 1, 1);
        using var samples = target.Sample(Plots.HistogramThreshold + 1, new torch.Generator(1));
        var picture = Picture.Load(Plots.Samples(folder.File("histogram.png"), samples, new Box(-4, 4, -4, 4), width: 700, height: 600));
        picture.AssertPlot(700, 600, minColors: 200);
        // Viridis: a histogram of a Gaussian has dark purple background cells and bright yellow-green peak cells.
        Assert.Contains(picture.Pixels, c => c.Red > 200 && c.Green > 200 && c.Blue < 100);
        Assert.True(picture.Pixels.Count(c => c.Red < 90 && c.Green < 20 && c.Blue > 60) > 10_000, "Expected a dark purple background.");
    }

    [Fact]
    public void Should_Draw_Both_Colours_When_Plotting_Model_Samples_Over_Target_Samples()
    {
        using var model = Models.Gaussian();
        var target = new GaussianTarget(-1, 1, 0.5, 0.5);
        var picture = Picture.Load(Plots.SamplesOverTarget(folder.File("over.png"), model, target, count: 1000, bounds: new Box(-3, 3, -4, 3), width: 600, height: 500));
        picture.AssertPlot(600, 500);
        Assert.True(CountBluish(picture) > 300, "Expected target (blue) markers.");
        Assert.True(picture.Pixels.Count(c => c.Red > 200 && c.Green is > 100 and < 200 && c.Blue < 120) > 300, "Expected model (orange) markers.");
    }

    [Fact]
    public void Should_Throw_Naming_Samples_When_They_Are_Not_Points_In_The_Plane()
    {
        using var points = torch.zeros(10, 3);
        var error = Assert.Throws<ArgumentException>("samples", () => Plots.Samples(folder.File("x.png"), points));
        Assert.Contains("[10, 3]", error.Message);
        using var empty = torch.zeros(0, 2);
        Assert.Throws<ArgumentException>("samples", () => Plots.Samples(folder.File("x.png"), empty));
    }

    [Fact]
    public void Should_Throw_Naming_The_Model_When_It_Has_The_Wrong_Dimension()
    {
        using var model = new StandardNormal(1);
        Assert.Throws<ArgumentException>("model", () => Plots.SamplesOverTarget(folder.File("x.png"), model, new GaussianTarget(0, 0, 1, 1)));
    }

    [Fact]
    public void Should_Throw_Naming_Count_When_It_Is_Not_Positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>("count", () => Plots.Samples(folder.File("x.png"), new GaussianTarget(0, 0, 1, 1), count: 0));
    }

    private static int CountBluish(Picture picture) => picture.Pixels.Count(c => c.Blue > 150 && c.Red < 150 && c.Blue > c.Green);
}
