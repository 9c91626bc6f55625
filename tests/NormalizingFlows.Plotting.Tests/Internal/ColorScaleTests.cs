using System;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Plotting.Tests.Support;
using NormalizingFlows.Targets;

namespace NormalizingFlows.Plotting.Tests.Internal;

public sealed class ColorScaleTests
{
    /// <summary>A smooth Gaussian over its own box (five standard deviations each side).</summary>
    private static double[,] Gaussian(int steps = 100) => DensityGrid.Evaluate(new GaussianTarget(0.5, -1, 1, 0.7), null, steps).ToArray();

    /// <summary>A bivariate Cauchy density, proportional to (1 + r^2)^(-3/2), on [-40, 40]^2: most of its mass lies where it is
    /// under 5 % of its peak.</summary>
    private static double[,] Cauchy(int steps = 100)
    {
        var values = new double[steps, steps];
        for (int row = 0; row < steps; row++)
            for (int column = 0; column < steps; column++)
            {
                double x = -40 + (column + 0.5) * 80.0 / steps, y = -40 + (row + 0.5) * 80.0 / steps;
                values[row, column] = Math.Pow(1 + x * x + y * y, -1.5) / (2 * Math.PI);
            }
        return values;
    }

    private static double Max(double[,] values)
    {
        double max = double.NegativeInfinity;
        foreach (double v in values) max = Math.Max(max, v);
        return max;
    }

    [Fact]
    public void Should_Pick_A_Linear_Scale_Up_To_The_Maximum_When_The_Density_Is_A_Smooth_Gaussian()
    {
        var values = Gaussian();
        var scale = ColorScale.Choose("density", null, values);
        Assert.Equal(ColorScaleKind.Linear, scale.Kind);
        Assert.Equal("density", scale.Label);
        Assert.Equal(0, scale.Low);
        Assert.Equal(Max(values), scale.High);
        Assert.Equal(values, scale.Display(values));
    }

    [Fact]
    public void Should_Clip_At_The_99th_Percentile_And_Say_So_When_One_Cell_Dominates()
    {
        // One cell 20 times the Gaussian's peak (3 % of the total): the picture would be one bright dot on black.
        var values = Gaussian();
        double smoothMax = Max(values);
        values[40, 60] = 20 * smoothMax;
        var scale = ColorScale.Choose("density", null, values);
        Assert.Equal(ColorScaleKind.Clipped, scale.Kind);
        Assert.Equal("density, clipped at 99th percentile", scale.Label);
        // The top of the scale is a value of the smooth part, not the spike: the Gaussian keeps its colours.
        Assert.InRange(scale.High, 0.5 * smoothMax, smoothMax);
        var shown = scale.Display(values);
        Assert.Equal(scale.High, shown[40, 60]);
        Assert.Equal(values[10, 10], shown[10, 10]);
    }

    [Fact]
    public void Should_Pick_The_Log_Density_When_A_Peak_Holds_Most_Of_The_Mass()
    {
        // One cell 1000 times the Gaussian's peak holds about 60 % of the total: clipping it would hide most of the mass.
        var values = Gaussian();
        values[40, 60] = 1000 * Max(values);
        var scale = ColorScale.Choose("density", null, values);
        Assert.Equal(ColorScaleKind.Log, scale.Kind);
        Assert.Equal("log density", scale.Label);
        Assert.Equal(Math.Log(values[40, 60]), scale.High, 12);
    }

    [Fact]
    public void Should_Pick_The_Log_Density_When_Long_Tails_Hold_The_Mass()
    {
        var values = Cauchy();
        var scale = ColorScale.Choose("density", null, values);
        Assert.Equal(ColorScaleKind.Log, scale.Kind);
        Assert.Equal("log density", scale.Label);
        Assert.Equal(Math.Log(Max(values)), scale.High, 12);
        Assert.True(scale.Low >= scale.High - ColorScale.LogDepth, $"The log scale reaches {scale.Low}, more than {ColorScale.LogDepth} nats below {scale.High}.");
        var shown = scale.Display(values);
        Assert.Equal(Math.Log(values[60, 50]), shown[60, 50], 12);
        // The far corner lies more than LogDepth nats below the peak: drawn at the bottom of the scale.
        Assert.Equal(scale.Low, shown[0, 0]);
    }

    [Fact]
    public void Should_Pick_The_Log_Density_When_Almost_Every_Cell_Is_Empty_Beside_A_Peak()
    {
        var values = new double[50, 50];
        values[20, 30] = 7;
        values[21, 30] = 1e-3;
        var scale = ColorScale.Choose("exp(log p \u2212 max)", "log p \u2212 max", values);
        Assert.Equal(ColorScaleKind.Log, scale.Kind);
        Assert.Equal("log p \u2212 max", scale.Label);
        var shown = scale.Display(values);
        Assert.Equal(scale.Low, shown[0, 0]);
        Assert.Equal(Math.Log(7), shown[20, 30], 12);
    }

    [Fact]
    public void Should_Share_One_Scale_Chosen_From_Both_Grids_When_Given_Two()
    {
        // The smooth target alone is linear; beside a learned density that is one sharp peak, the shared scale is clipped.
        var target = Gaussian();
        var learned = new double[100, 100];
        learned[50, 50] = 100 * Max(target);
        Assert.Equal(ColorScaleKind.Linear, ColorScale.Choose("density", null, target).Kind);
        var shared = ColorScale.Choose("density", null, target, learned);
        Assert.Equal(ColorScaleKind.Clipped, shared.Kind);
        Assert.True(shared.High <= Max(target), $"The shared scale tops out at {shared.High}, above the target's {Max(target)}.");
    }

    [Fact]
    public void Should_Keep_Differences_Symmetric_And_Clip_Them_Only_When_One_Cell_Dominates()
    {
        var difference = new double[60, 60];
        for (int row = 0; row < 60; row++)
            for (int column = 0; column < 60; column++)
                difference[row, column] = Math.Sin(row / 6.0) * Math.Cos(column / 9.0);
        var smooth = ColorScale.ChooseSymmetric("difference", difference);
        Assert.Equal(ColorScaleKind.Linear, smooth.Kind);
        Assert.Equal(-smooth.High, smooth.Low);
        Assert.Equal("difference", smooth.Label);

        difference[5, 5] = -400;
        var clipped = ColorScale.ChooseSymmetric("difference", difference);
        Assert.Equal(ColorScaleKind.Clipped, clipped.Kind);
        Assert.Equal("difference, clipped at 99th percentile", clipped.Label);
        Assert.Equal(-clipped.High, clipped.Low);
        Assert.InRange(clipped.High, 0.5, 1);
        Assert.Equal(clipped.Low, clipped.Display(difference)[5, 5]);
    }

    [Fact]
    public void Should_Fall_Back_To_A_Linear_Unit_Range_When_Every_Value_Is_Zero_Or_Not_Finite()
    {
        var values = new double[4, 4];
        values[1, 1] = double.NaN;
        var scale = ColorScale.Choose("density", null, values);
        Assert.Equal(ColorScaleKind.Linear, scale.Kind);
        Assert.True(scale.High > scale.Low);
        Assert.True(double.IsNaN(scale.Display(values)[1, 1]));
    }
}
