using System;
using System.Linq;
using NormalizingFlows.Distributions;
using NormalizingFlows.Plotting.Tests.Support;
using NormalizingFlows.Targets;
using TorchSharp;

namespace NormalizingFlows.Plotting.Tests;

public sealed class DensityGridTests
{
    private static readonly Box Box = new(-1, 4, -4.5, 2.5);

    [Fact]
    public void Should_Match_Exact_Density_At_Cell_Midpoints_With_Row_Zero_At_The_Bottom()
    {
        using var model = Models.Gaussian();
        var target = new GaussianTarget(1.5, -1, 0.5, 0.8);
        var grid = DensityGrid.Evaluate(model, Box, steps: 40);
        Assert.Equal(40, grid.Steps);
        foreach (var (row, column) in new[] { (0, 0), (3, 17), (22, 9), (39, 39), (13, 25) })
        {
            double expected = target.Density(grid.X(column), grid.Y(row));
            Assert.Equal(expected, grid[row, column], 5);
        }
        // The mean (1.5, -1) lies in the cell with the largest value.
        int bestRow = 0, bestColumn = 0;
        for (int row = 0; row < grid.Steps; row++)
            for (int column = 0; column < grid.Steps; column++)
                if (grid[row, column] > grid[bestRow, bestColumn]) (bestRow, bestColumn) = (row, column);
        Assert.InRange(grid.X(bestColumn), 1.5 - grid.CellWidth, 1.5 + grid.CellWidth);
        Assert.InRange(grid.Y(bestRow), -1 - grid.CellHeight, -1 + grid.CellHeight);
    }

    [Fact]
    public void Should_Integrate_To_One_When_The_Box_Holds_The_Gaussian()
    {
        using var model = Models.Gaussian();
        var grid = DensityGrid.Evaluate(model, new Box(-2, 5, -6, 4), steps: 200);
        Assert.Equal(1.0, grid.Integral(), 3);
        Assert.True(grid.IsNormalized);
    }

    [Fact]
    public void Should_Give_The_Gaussian_Marginals_When_Integrating_Over_The_Other_Axis()
    {
        var target = new GaussianTarget(1.5, -1, 0.5, 0.8);
        var grid = DensityGrid.Evaluate(target, new Box(-2, 5, -6, 4), steps: 200);
        var first = grid.Marginal(0);
        var second = grid.Marginal(1);
        for (int i = 0; i < grid.Steps; i += 7)
        {
            Assert.Equal(Normal(grid.X(i), 1.5, 0.5), first[i], 4);
            Assert.Equal(Normal(grid.Y(i), -1, 0.8), second[i], 4);
        }
        Assert.Throws<ArgumentOutOfRangeException>("axis", () => grid.Marginal(2));
    }

    [Fact]
    public void Should_Scale_To_A_Maximum_Of_One_When_The_Target_Is_Unnormalised()
    {
        var target = new GaussianTarget(1.5, -1, 0.5, 0.8, normalized: false);
        var grid = DensityGrid.Evaluate(target, Box, steps: 51);
        Assert.False(grid.IsNormalized);
        Assert.Equal(1.0, grid.Max, 12);
        var exact = DensityGrid.Evaluate(new GaussianTarget(1.5, -1, 0.5, 0.8), Box, steps: 51);
        // Same shape: the ratio to the exact density is the same everywhere.
        double ratio = grid[25, 25] / exact[25, 25];
        Assert.Equal(ratio, grid[10, 40] / exact[10, 40], 6);
    }

    [Fact]
    public void Should_Leave_Training_Mode_And_BatchNorm_Statistics_Unchanged_When_Evaluating()
    {
        using var flow = Models.WithBatchNorm();
        flow.train();
        var batchNorm = flow.modules().OfType<NormalizingFlows.Bijectors.BatchNorm>().Single();
        using var meanBefore = batchNorm.RunningMean;
        _ = DensityGrid.Evaluate(flow, Box, steps: 30);
        Assert.True(flow.training);
        Assert.True(batchNorm.training);
        using var meanAfter = batchNorm.RunningMean;
        Assert.True(meanBefore.equal(meanAfter).all().item<bool>());

        // Control: the same evaluation in training mode does move the statistics.
        using (var x = torch.randn(64, 2))
        using (flow.LogProb(x)) { }
        using var meanTrained = batchNorm.RunningMean;
        Assert.False(meanBefore.equal(meanTrained).all().item<bool>());

        // A module that was in evaluation mode inside a training model stays so.
        batchNorm.eval();
        _ = DensityGrid.Evaluate(flow, Box, steps: 10);
        Assert.True(flow.training);
        Assert.False(batchNorm.training);
    }

    [Fact]
    public void Should_Throw_Naming_The_Model_When_It_Is_Not_Two_Dimensional()
    {
        using var model = new StandardNormal(3);
        var error = Assert.Throws<ArgumentException>("model", () => DensityGrid.Evaluate(model, Box));
        Assert.Contains("[3]", error.Message);
    }

    [Fact]
    public void Should_Throw_Naming_Steps_When_Out_Of_Range()
    {
        using var model = Models.Gaussian();
        Assert.Throws<ArgumentOutOfRangeException>("steps", () => DensityGrid.Evaluate(model, Box, steps: 0));
    }

    [Fact]
    public void Should_Copy_Values_When_Created_From_An_Array()
    {
        var values = new double[,] { { 1, 2 }, { 3, 4 } };
        var grid = DensityGrid.FromValues(Box, values);
        values[0, 0] = 100;
        Assert.Equal(1, grid[0, 0]);
        Assert.Equal(4, grid.Max);
        Assert.Throws<ArgumentException>("values", () => DensityGrid.FromValues(Box, new double[2, 3]));
    }

    private static double Normal(double x, double mean, double scale) =>
        Math.Exp(-0.5 * Math.Pow((x - mean) / scale, 2)) / (scale * Math.Sqrt(2 * Math.PI));
}
