using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Plotting.Tests.Support;
using NormalizingFlows.Training;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting.Tests;

public sealed class DensitySnapshotsTests : IDisposable
{
    private static readonly Box Box = new(-3, 5, -4, 4);
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static TrainingProgress At(int iteration) => new(iteration, 100, 1.0, 0, TimeSpan.Zero);

    [Fact]
    public void Should_Record_At_The_First_Report_At_Or_After_Each_Requested_Iteration()
    {
        using var model = Models.Gaussian();
        var forwarded = new List<int>();
        var snapshots = new DensitySnapshots(model, Box, new[] { 25, 0, 5, 7, 25 }, steps: 20, inner: new Recorder(forwarded));
        Assert.Equal(new[] { 0, 5, 7, 25 }, snapshots.RequestedIterations);
        Assert.Equal(new[] { 0 }, snapshots.Snapshots.Select(s => s.Iteration));

        foreach (int iteration in new[] { 10, 20, 30, 40 }) snapshots.Report(At(iteration));

        Assert.Equal(new[] { 0, 10, 30 }, snapshots.Snapshots.Select(s => s.Iteration));
        Assert.Equal(new[] { 10, 20, 30, 40 }, forwarded);
        Assert.All(snapshots.Snapshots, s => Assert.Equal(20, s.Density.Steps));
    }

    [Fact]
    public void Should_Record_How_The_Density_Moves_During_A_Fit()
    {
        var target = new GaussianTarget(2, 1.5, 0.5, 0.5);
        using var model = new DiagonalGaussian(2);
        var snapshots = new DensitySnapshots(model, Box, new[] { 0, 150 }, steps: 80);
        Fit.ToData(model, target, new FitOptions { Iterations = 150, BatchSize = 256, LearningRate = 0.05, ProgressInterval = 10 }, snapshots);

        var records = snapshots.Snapshots;
        Assert.Equal(new[] { 0, 150 }, records.Select(r => r.Iteration));
        var (x0, y0) = Peak(records[0].Density);
        var (x1, y1) = Peak(records[1].Density);
        Assert.True(Math.Abs(x0) < 0.2 && Math.Abs(y0) < 0.2, $"The untrained peak ({x0}, {y0}) should be at the origin.");
        Assert.True(Math.Abs(x1 - 2) < 0.3 && Math.Abs(y1 - 1.5) < 0.3, $"The trained peak ({x1}, {y1}) should be near the data mean (2, 1.5).");
        Assert.True(records[1].Density.Max > 2 * records[0].Density.Max, "The learned density should be sharper than the unit Gaussian it started as.");
    }

    [Fact]
    public void Should_Leave_The_Model_In_Training_Mode_With_Unchanged_Statistics_When_Recording()
    {
        using var flow = Models.WithBatchNorm();
        flow.train();
        var batchNorm = flow.modules().OfType<BatchNorm>().Single();
        using var before = batchNorm.RunningMean;
        var snapshots = new DensitySnapshots(flow, Box, new[] { 0, 10 }, steps: 16);
        snapshots.Report(At(10));
        Assert.Equal(2, snapshots.Snapshots.Count);
        Assert.True(flow.training);
        using var after = batchNorm.RunningMean;
        Assert.True(before.equal(after).all().item<bool>());
    }

    [Fact]
    public void Should_Write_A_Grid_Of_Panels_With_Shared_Or_Own_Scales()
    {
        using var model = Models.Gaussian();
        var snapshots = new DensitySnapshots(model, Box, new[] { 0 }, steps: 30);
        snapshots.Record(50);
        snapshots.Record(100);
        Picture.Load(snapshots.Save(folder.File("own.png"), width: 1200, height: 400)).AssertPlot(1200, 400);
        Picture.Load(snapshots.Save(folder.File("shared.png"), sharedScale: true, columns: 2, width: 800)).AssertPlot(800, 640);
    }

    [Fact]
    public void Should_Throw_When_Nothing_Was_Recorded_Or_Arguments_Are_Wrong()
    {
        using var model = Models.Gaussian();
        var snapshots = new DensitySnapshots(model, Box, new[] { 10 });
        Assert.Throws<InvalidOperationException>(() => snapshots.Save(folder.File("x.png")));
        Assert.Throws<ArgumentException>("iterations", () => new DensitySnapshots(model, Box, Array.Empty<int>()));
        Assert.Throws<ArgumentException>("iterations", () => new DensitySnapshots(model, Box, new[] { -1, 5 }));
        using var model3 = new StandardNormal(3);
        Assert.Throws<ArgumentException>("model", () => new DensitySnapshots(model3, Box, new[] { 0 }));
        Assert.Throws<ArgumentOutOfRangeException>("width", () => snapshots.Save(folder.File("x.png"), width: 0));
    }

    private static (double X, double Y) Peak(DensityGrid grid)
    {
        int bestRow = 0, bestColumn = 0;
        for (int row = 0; row < grid.Steps; row++)
            for (int column = 0; column < grid.Steps; column++)
                if (grid[row, column] > grid[bestRow, bestColumn]) (bestRow, bestColumn) = (row, column);
        return (grid.X(bestColumn), grid.Y(bestRow));
    }

    private sealed class Recorder(List<int> iterations) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => iterations.Add(value.Iteration);
    }
}
