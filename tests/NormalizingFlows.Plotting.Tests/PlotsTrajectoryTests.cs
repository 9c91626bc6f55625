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
    public void Should_Label_The_Base_Panel_Z_And_The_Layer_Panels_X()
    {
        var z = (new[] { 0.0, 1, -1, 0.5 }, new[] { 0.0, -1, 1, 0.2 });
        var x = (new[] { 1.0, 2, 0, 1.5 }, new[] { 3.0, 2, 4, 3.2 });
        var panels = Plots.TrajectoryPanels(new[] { z, x, x }, new[] { "base", "layer 1", "data" }, TrajectoryColoring.Angle, sharedLimits: false);
        try
        {
            Assert.Equal("z\u2081", panels[0].Axes.Bottom.Label.Text);
            Assert.Equal("z\u2082", panels[0].Axes.Left.Label.Text);
            foreach (var panel in panels.Skip(1))
            {
                Assert.Equal("x\u2081", panel.Axes.Bottom.Label.Text);
                Assert.Equal("x\u2082", panel.Axes.Left.Label.Text);
            }
        }
        finally
        {
            foreach (var panel in panels) panel.Dispose();
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 3)]
    [InlineData(9, 3)]   // RealNVP with 8 couplings: 33 frames
    [InlineData(13, 2)]
    [InlineData(33, 0)]  // 16 x [coupling + LU linear]: the 33 stages alone
    [InlineData(60, 0)]
    public void Should_Choose_Fewer_Frames_Between_Layers_When_A_Flow_Has_Many_Layers(int stages, int expected)
    {
        int between = Plots.AutomaticFramesBetween(stages);
        Assert.Equal(expected, between);
        int frames = stages + (stages - 1) * between;
        Assert.True(frames <= Plots.MaxAnimationFrames || between == 0, $"{stages} stages give {frames} frames.");
    }

    [Fact]
    public void Should_Write_Palette_Frames_Within_The_Frame_Cap_When_The_Flow_Has_Many_Layers()
    {
        // 20 stages: by default 1 frame between stages (20 + 19 = 39 frames, under the cap of 48), all 8-bit palette images.
        using var z = torch.randn(300, 2, generator: new torch.Generator(5));
        var layers = Enumerable.Range(0, 20).Select(i => z.mul(1 + 0.1 * i)).ToArray();
        try
        {
            string path = Plots.TrajectoryAnimation(folder.File("many.png"), layers, width: 240, height: 200);
            var apng = ApngFile.Read(File.ReadAllBytes(path));
            Assert.Equal(39, apng.DeclaredFrames);
            var header = apng.Chunks.Single(c => c.Type == "IHDR").Data;
            Assert.Equal(8, header[8]);
            Assert.Equal(3, header[9]);
            int paletteColors = apng.Chunks.Single(c => c.Type == "PLTE").Data.Length / 3;
            Assert.InRange(paletteColors, 50, 256);
            var frames = apng.Frames();
            Picture.Decode(frames[0]).AssertPlot(240, 200);
            Picture.Decode(frames[^1]).AssertPlot(240, 200);
        }
        finally
        {
            foreach (var layer in layers) layer.Dispose();
        }
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
