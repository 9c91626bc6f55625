using System;
using System.Linq;
using NormalizingFlows.Plotting.Tests.Support;
using ScottPlot;

namespace NormalizingFlows.Plotting.Tests;

public sealed class PlotsTrainingCurveTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static double[] Losses(int count, double shift = 0) =>
        Enumerable.Range(0, count).Select(i => 3 + 5 * Math.Exp(-i / 40.0) + 0.1 * Math.Sin(i) + shift).ToArray();

    [Fact]
    public void Should_Write_A_Picture_Of_The_Requested_Size()
    {
        var losses = Losses(300);
        losses[20] = double.NaN;
        var picture = Picture.Load(Plots.TrainingCurve(folder.File("loss.png"), losses, new[] { (100, 4.0), (200, 3.5), (300, 3.2) }, width: 800, height: 450));
        picture.AssertPlot(800, 450);
    }

    [Fact]
    public void Should_Use_A_Log_Scale_When_Every_Loss_Is_Positive_And_Say_So()
    {
        using var plot = Plots.TrainingCurvePlot(Losses(100), null, null, true, null);
        Assert.Contains("log scale", plot.Axes.Left.Label.Text);
        Assert.IsType<ScottPlot.TickGenerators.NumericManual>(plot.Axes.Left.TickGenerator);
    }

    [Fact]
    public void Should_Show_The_Unit_On_The_Loss_Axis_When_One_Is_Given()
    {
        using var log = Plots.TrainingCurvePlot(Losses(100), null, null, true, null, unit: "nats per row");
        Assert.Equal("loss (nats per row, log scale)", log.Axes.Left.Label.Text);
        using var linear = Plots.TrainingCurvePlot(Losses(100, shift: -5), null, null, true, null, unit: "nats per row");
        Assert.StartsWith("loss (nats per row; linear scale", linear.Axes.Left.Label.Text);
        using var none = Plots.TrainingCurvePlot(Losses(100), null, null, true, null);
        Assert.Equal("loss (log scale)", none.Axes.Left.Label.Text);
    }

    [Fact]
    public void Should_Use_A_Linear_Scale_When_A_Loss_Is_Negative_And_Say_So()
    {
        using var plot = Plots.TrainingCurvePlot(Losses(100, shift: -5), null, null, true, null);
        Assert.Contains("linear scale", plot.Axes.Left.Label.Text);
    }

    [Fact]
    public void Should_Mark_Each_Skipped_Step_When_Losses_Are_Not_Finite()
    {
        var losses = Losses(100);
        losses[10] = double.NaN;
        losses[50] = double.PositiveInfinity;
        losses[51] = double.NegativeInfinity;
        using var plot = Plots.TrainingCurvePlot(losses, null, null, true, null);
        var marks = plot.GetPlottables<ScottPlot.Plottables.Markers>().Single();
        Assert.Equal(new[] { 11.0, 51, 52 }, marks.Data.GetScatterPoints().Select(p => p.X));
        Assert.Contains("(3)", marks.LegendText);
        using var unmarked = Plots.TrainingCurvePlot(losses, null, null, false, null);
        Assert.Empty(unmarked.GetPlottables<ScottPlot.Plottables.Markers>());
    }

    [Fact]
    public void Should_Draw_A_Moving_Average_And_Validation_When_Asked()
    {
        using var plot = Plots.TrainingCurvePlot(Losses(200), new[] { (50, 4.0), (100, double.NaN), (150, 3.5) }, 10, true, null);
        var lines = plot.GetPlottables<ScottPlot.Plottables.Scatter>().ToArray();
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.LegendText.Contains("moving average (10 steps)"));
        var validation = lines.Single(l => l.LegendText == "validation");
        Assert.Equal(2, validation.Data.GetScatterPoints().Count); // the NaN entry is left out
        // The average is smoother than the raw curve: a smaller sum of absolute steps.
        var raw = lines.Single(l => l.LegendText == "loss per step").Data.GetScatterPoints();
        var average = lines.Single(l => l.LegendText.StartsWith("moving average")).Data.GetScatterPoints();
        Assert.True(TotalVariation(average) < 0.8 * TotalVariation(raw));

        using var plain = Plots.TrainingCurvePlot(Losses(200), null, 0, true, null);
        Assert.Single(plain.GetPlottables<ScottPlot.Plottables.Scatter>());
    }

    [Fact]
    public void Should_Throw_Naming_Losses_When_There_Are_None_Or_None_Finite()
    {
        Assert.Throws<ArgumentException>("losses", () => Plots.TrainingCurve(folder.File("x.png"), Array.Empty<double>()));
        Assert.Throws<ArgumentException>("losses", () => Plots.TrainingCurve(folder.File("x.png"), new[] { double.NaN, double.PositiveInfinity }));
    }

    [Fact]
    public void Should_Throw_Naming_Width_When_It_Is_Not_Positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>("width", () => Plots.TrainingCurve(folder.File("x.png"), Losses(10), width: -1));
    }

    private static double TotalVariation(System.Collections.Generic.IReadOnlyList<Coordinates> points)
    {
        double sum = 0;
        for (int i = 1; i < points.Count; i++) sum += Math.Abs(points[i].Y - points[i - 1].Y);
        return sum;
    }
}
