using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Plotting.Tests.Support;
using TorchSharp;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsTrajectoryTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Write_Square_Panels_When_No_Height_Is_Given()
    {
        using var flow = Models.WithBatchNorm(); // base + 3 layers = 4 panels: 2 x 2
        flow.eval();
        var picture = Picture.Load(Plots.Trajectory(folder.File("trajectory.png"), flow, count: 500, width: 800));
        picture.AssertPlot(800, 800);
    }

    [Fact]
    public void Should_Write_The_Requested_Size_With_Shared_Limits_And_First_Coordinate_Colours()
    {
        using var flow = Models.WithBatchNorm();
        flow.eval();
        var picture = Picture.Load(Plots.Trajectory(folder.File("trajectory.png"), flow, count: 300,
            coloring: TrajectoryColoring.FirstCoordinate, sharedLimits: true, columns: 4, width: 1200, height: 300));
        picture.AssertPlot(1200, 300);
    }

    [Fact]
    public void Should_Leave_The_Flow_In_Training_Mode_With_Unchanged_Statistics()
    {
        using var flow = Models.WithBatchNorm();
        flow.train();
        var batchNorm = flow.modules().OfType<BatchNorm>().Single();
        using var before = batchNorm.RunningMean;
        Plots.Trajectory(folder.File("t.png"), flow, count: 100, width: 400);
        Plots.TrajectoryAnimation(folder.File("t.apng"), flow, count: 100, framesBetweenLayers: 0, width: 200, height: 200);
        Assert.True(flow.training);
        using var after = batchNorm.RunningMean;
        Assert.True(before.equal(after).all().item<bool>());
    }

    [Fact]
    public void Should_Have_One_Frame_Per_Layer_Plus_Interpolated_Frames()
    {
        using var flow = Models.WithBatchNorm();
        flow.eval();
        string path = Plots.TrajectoryAnimation(folder.File("path.png"), flow, count: 400, framesBetweenLayers: 2,
            layerMilliseconds: 500, stepMilliseconds: 40, width: 320, height: 240);
        var apng = ApngFile.Read(File.ReadAllBytes(path));
        int expected = 4 + 3 * 2;
        Assert.Equal(expected, apng.DeclaredFrames);
        Assert.Equal(expected, apng.FrameControls.Count());
        Assert.Equal(0, apng.Loops);
        Assert.Equal(new[] { 500.0, 40, 40, 500, 40, 40, 500, 40, 40, 1500 }, apng.Delays);
        var frames = apng.Frames();
        Assert.Equal(expected, frames.Count);
        Picture.Decode(frames[0]).AssertPlot(320, 240);
        Picture.Decode(frames[^1]).AssertPlot(320, 240);
        // Interpolated frames differ from the stages around them.
        Assert.NotEqual(Picture.Decode(frames[0]).Pixels, Picture.Decode(frames[1]).Pixels);
    }

    [Fact]
    public void Should_Move_Points_Through_The_Layers_In_The_Plain_Data_Overload()
    {
        using var z = torch.randn(200, 2, generator: new torch.Generator(4));
        using var shifted = z.add(3);
        string path = Plots.TrajectoryAnimation(folder.File("plain.png"), new[] { z, shifted }, new[] { "start", "end" }, framesBetweenLayers: 1, width: 200, height: 200);
        Assert.Equal(3, ApngFile.Read(File.ReadAllBytes(path)).DeclaredFrames);
        Picture.Load(Plots.Trajectory(folder.File("grid.png"), new[] { z, shifted }, width: 600, height: 300)).AssertPlot(600, 300);
    }

    [Fact]
    public void Should_Throw_Naming_The_Argument_When_Inputs_Are_Wrong()
    {
        using var flow3 = new Flow(new StandardNormal(3), new Shift(new[] { 0.0, 0, 0 }));
        Assert.Throws<ArgumentException>("flow", () => Plots.Trajectory(folder.File("x.png"), flow3));
        using var a = torch.zeros(10, 2);
        using var b = torch.zeros(11, 2);
        Assert.Throws<ArgumentException>("layers", () => Plots.TrajectoryAnimation(folder.File("x.png"), new[] { a, b }));
        Assert.Throws<ArgumentException>("titles", () => Plots.Trajectory(folder.File("x.png"), new[] { a }, new[] { "one", "two" }));
        Assert.Throws<ArgumentOutOfRangeException>("framesBetweenLayers", () => Plots.TrajectoryAnimation(folder.File("x.png"), new[] { a }, framesBetweenLayers: -1));
        Assert.Throws<ArgumentOutOfRangeException>("width", () => Plots.TrajectoryAnimation(folder.File("x.png"), new[] { a }, width: 0));
    }
}
