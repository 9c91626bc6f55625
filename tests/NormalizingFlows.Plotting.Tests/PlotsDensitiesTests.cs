using System;
using System.Linq;
using NormalizingFlows.Distributions;
using NormalizingFlows.Plotting.Tests.Support;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using ScottPlot;
using TorchSharp;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsDensitiesTests : IDisposable
{
    private static readonly Box Box = new(-2, 3, -2, 4);
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Should_Put_The_Brightest_Pixel_At_The_Mean_When_Plotting_A_Known_Gaussian()
    {
        using var model = Models.Gaussian();
        AssertBrightestAt(DensityGrid.Evaluate(model, Box, 200), 1.5, -1);
    }

    [Fact]
    public void Should_Put_The_Learned_Density_Where_The_Samples_Are_When_A_Model_Is_Trained()
    {
        // A trainable Gaussian starts at the origin and learns the mean (2.5, 1) of its training samples.
        var target = new GaussianTarget(2.5, 1, 0.4, 0.6);
        using var model = new DiagonalGaussian(2);
        Fit.ToData(model, target, new FitOptions { Iterations = 300, BatchSize = 256, LearningRate = 0.05, Seed = 3 });
        AssertBrightestAt(DensityGrid.Evaluate(model, new Box(-2, 5, -3, 4), 200), 2.5, 1);
    }

    [Fact]
    public void Should_Write_A_Picture_Of_The_Requested_Size_When_Comparing_Target_And_Model()
    {
        using var model = Models.Gaussian();
        var target = new GaussianTarget(1.2, -0.8, 0.6, 0.7);
        string path = Plots.Densities(folder.File("densities.png"), target, model, Box, steps: 60, width: 1200, height: 400);
        Picture.Load(path).AssertPlot(1200, 400);
    }

    [Fact]
    public void Should_Write_A_Picture_When_The_Target_Is_Unnormalised()
    {
        using var model = Models.Gaussian();
        var target = new GaussianTarget(1.2, -0.8, 0.6, 0.7, normalized: false);
        Picture.Load(Plots.Densities(folder.File("unnormalised.png"), target, model, Box, steps: 40, width: 900, height: 400)).AssertPlot(900, 400);
        Picture.Load(Plots.Density(folder.File("target.png"), target, Box, steps: 40, width: 500, height: 400)).AssertPlot(500, 400);
    }

    [Fact]
    public void Should_Say_Unnormalised_In_The_Title_When_The_Grid_Is_Unnormalised()
    {
        var grid = DensityGrid.Evaluate(new GaussianTarget(0, 0, 1, 1, normalized: false), new Box(-3, 3, -3, 3), 20);
        using var plot = Plots.DensityPlot(grid, "target");
        Assert.Contains("unnormalised", plot.Axes.Title.Label.Text);
    }

    [Fact]
    public void Should_Write_The_Single_Learned_Density_Of_The_Requested_Size()
    {
        using var model = Models.Gaussian();
        Picture.Load(Plots.Density(folder.File("q.png"), model, Box, steps: 50, width: 640, height: 480)).AssertPlot(640, 480);
    }

    [Fact]
    public void Should_Throw_Naming_Width_When_It_Is_Not_Positive()
    {
        using var model = Models.Gaussian();
        Assert.Throws<ArgumentOutOfRangeException>("width", () => Plots.Density(folder.File("x.png"), model, Box, width: 0));
        Assert.Throws<ArgumentOutOfRangeException>("height", () => Plots.Density(folder.File("x.png"), model, Box, height: -3));
    }

    [Fact]
    public void Should_Throw_Naming_The_Model_When_It_Has_The_Wrong_Dimension()
    {
        using var model = new StandardNormal(3);
        var error = Assert.Throws<ArgumentException>("model", () => Plots.Densities(folder.File("x.png"), new GaussianTarget(0, 0, 1, 1), model));
        Assert.Contains("event shape [2]", error.Message);
        Assert.False(System.IO.File.Exists(folder.File("x.png")));
    }

    [Fact]
    public void Should_Throw_Naming_Learned_When_The_Grids_Differ()
    {
        var target = DensityGrid.Evaluate(new GaussianTarget(0, 0, 1, 1), new Box(-3, 3, -3, 3), 20);
        var learned = DensityGrid.Evaluate(new GaussianTarget(0, 0, 1, 1), new Box(-3, 3, -3, 3), 21);
        Assert.Throws<ArgumentException>("learned", () => Plots.Densities(folder.File("x.png"), target, learned));
    }

    [Fact]
    public void Should_Say_Clipped_On_The_Shared_Colour_Bar_When_The_Learned_Density_Is_A_Sharp_Peak()
    {
        var box = new Box(-3, 3, -3, 3);
        var target = DensityGrid.Evaluate(new GaussianTarget(0, 0, 1, 1), box, 60);
        var spike = new double[60, 60];
        spike[30, 31] = 100 * target.Max;
        var learned = DensityGrid.FromValues(box, spike);
        var panels = Plots.DensityPanels(target, learned, "gaussian");
        try
        {
            Assert.Empty(ColorBarLabels(panels[0]));
            Assert.Equal(new[] { "density (shared scale), clipped at 99th percentile" }, ColorBarLabels(panels[1]));
            Assert.Equal(new[] { "difference q(x) \u2212 p(x), clipped at 99th percentile" }, ColorBarLabels(panels[2]));
        }
        finally
        {
            foreach (var panel in panels) panel.Dispose();
        }
        Picture.Load(Plots.Densities(folder.File("spike.png"), target, learned, width: 900, height: 300)).AssertPlot(900, 300);
    }

    [Fact]
    public void Should_Say_Density_On_A_Linear_Colour_Bar_When_Both_Densities_Are_Smooth()
    {
        var box = new Box(-4, 4, -4, 4);
        var target = DensityGrid.Evaluate(new GaussianTarget(0, 0, 1, 1), box, 60);
        var learned = DensityGrid.Evaluate(new GaussianTarget(0.3, 0, 1.1, 0.9), box, 60);
        var panels = Plots.DensityPanels(target, learned, null);
        try
        {
            Assert.Equal(new[] { "density (shared scale)" }, ColorBarLabels(panels[1]));
            Assert.Equal(new[] { "difference q(x) \u2212 p(x)" }, ColorBarLabels(panels[2]));
        }
        finally
        {
            foreach (var panel in panels) panel.Dispose();
        }
    }

    [Fact]
    public void Should_Say_Log_Density_On_The_Colour_Bar_When_The_Density_Has_Long_Tails()
    {
        // A bivariate Cauchy density on a wide box: most of its mass lies where it is under 5 % of its peak.
        var box = new Box(-40, 40, -40, 40);
        var values = new double[80, 80];
        for (int row = 0; row < 80; row++)
            for (int column = 0; column < 80; column++)
            {
                double x = -39.5 + column, y = -39.5 + row;
                values[row, column] = Math.Pow(1 + x * x + y * y, -1.5) / (2 * Math.PI);
            }
        using var plot = Plots.DensityPlot(DensityGrid.FromValues(box, values), "cauchy");
        Assert.Equal(new[] { "log density" }, ColorBarLabels(plot));
        Picture.Decode(plot.GetImageBytes(500, 400, ImageFormat.Png)).AssertPlot(500, 400);
    }

    [Fact]
    public void Should_Name_The_Unnormalised_Log_Scale_When_An_Unnormalised_Target_Has_Long_Tails()
    {
        var box = new Box(-40, 40, -40, 40);
        var values = new double[80, 80];
        for (int row = 0; row < 80; row++)
            for (int column = 0; column < 80; column++)
            {
                double x = -39.5 + column, y = -39.5 + row;
                values[row, column] = Math.Pow(1 + x * x + y * y, -1.5);
            }
        using var plot = Plots.DensityPlot(DensityGrid.FromValues(box, values, isNormalized: false), "cauchy");
        Assert.Equal(new[] { "log p \u2212 max" }, ColorBarLabels(plot));
    }

    private static string[] ColorBarLabels(Plot plot) =>
        plot.Axes.GetPanels().OfType<ScottPlot.Panels.ColorBar>().Select(bar => bar.Label).ToArray();

    /// <summary>Renders the single-panel density plot and checks that its brightest data pixel lies at (x, y) to within two cells.</summary>
    private static void AssertBrightestAt(DensityGrid grid, double x, double y)
    {
        using var plot = Plots.DensityPlot(grid, "density");
        var picture = Picture.Decode(plot.GetImageBytes(600, 500, ImageFormat.Png));
        var data = plot.LastRender.DataRect;
        double best = -1;
        int bestX = 0, bestY = 0;
        for (int py = (int)data.Top + 2; py < (int)data.Bottom - 2; py++)
            for (int px = (int)data.Left + 2; px < (int)data.Right - 2; px++)
            {
                var c = picture[px, py];
                double luminance = 0.2126 * c.Red + 0.7152 * c.Green + 0.0722 * c.Blue;
                if (luminance > best) (best, bestX, bestY) = (luminance, px, py);
            }
        var expected = plot.GetPixel(new Coordinates(x, y));
        double cellX = data.Width / grid.Steps, cellY = data.Height / grid.Steps;
        Assert.InRange(bestX, expected.X - 2 * cellX - 1, expected.X + 2 * cellX + 1);
        Assert.InRange(bestY, expected.Y - 2 * cellY - 1, expected.Y + 2 * cellY + 1);
        // And it is the colour map's bright end (viridis yellow), not a grid line.
        var brightest = picture[bestX, bestY];
        Assert.True(brightest.Red > 200 && brightest.Green > 200 && brightest.Blue < 100, $"Brightest pixel {brightest} is not viridis yellow.");
    }
}
