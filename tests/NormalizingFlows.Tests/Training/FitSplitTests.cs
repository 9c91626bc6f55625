using System;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary><see cref="Fit.SplitRows"/> and <see cref="Fit.SplitSizes"/>: the split a fit to in-memory data uses, exposed, and the
/// split sizes and final validation loss a fit reports.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FitSplitTests
{
    private static Tensor Data(long rows)
    {
        using var generator = new Generator(5);
        return new Banana().Sample(rows, generator);
    }

    [Theory]
    [InlineData(1000, 0.1, 900, 100)]
    [InlineData(1000, 0.0, 1000, 0)]
    [InlineData(7, 0.5, 3, 4)]
    [InlineData(10, 0.25, 8, 2)]
    public void Should_Split_Sizes_As_Round_Of_Rows_Times_Fraction(long rows, double fraction, long training, long validation)
    {
        Assert.Equal((training, validation), Fit.SplitSizes(rows, fraction));
    }

    [Fact]
    public void Should_Refuse_A_Fraction_That_Leaves_No_Validation_Row()
    {
        var e = Assert.Throws<ArgumentException>(() => Fit.SplitSizes(4, 0.1));
        Assert.Contains("4 rows leaves 0 validation", e.Message);
    }

    [Fact]
    public void Should_Return_Disjoint_Training_And_Validation_Rows_That_Together_Are_All_Rows()
    {
        using var scope = torch.NewDisposeScope();
        var data = torch.arange(200, dtype: ScalarType.Float64).reshape(100, 2);
        var (training, validation) = Fit.SplitRows(data, new FitOptions { ValidationFraction = 0.2, Seed = 9 });
        Assert.Equal(new long[] { 80, 2 }, training.shape);
        Assert.Equal(new long[] { 20, 2 }, validation.shape);
        var all = torch.cat(new[] { training, validation }, 0)[.., 0].data<double>().Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => 2.0 * i), all);
        // Another seed, another split.
        var (_, other) = Fit.SplitRows(data, new FitOptions { ValidationFraction = 0.2, Seed = 10 });
        Assert.False(other.eq(validation).all().item<bool>());
    }

    [Fact]
    public void Should_Report_The_Split_Sizes_And_A_Final_Validation_Loss_On_Exactly_The_Rows_SplitRows_Returns()
    {
        using var data = Data(500);
        var options = new FitOptions { Iterations = 60, BatchSize = 64, LearningRate = 3e-3, Seed = 4, ValidationFraction = 0.2, ValidationInterval = 20 };
        using var flow = Flows.RealNvp(2, 2, new[] { 16 }, seed: 1);
        var result = Fit.ToData(flow, data, options);
        Assert.Equal(400, result.TrainingRows);
        Assert.Equal(100, result.ValidationRows);

        var (training, validation) = Fit.SplitRows(data, options);
        using (training)
        using (validation)
        {
            // The fit's own validation set is exactly SplitRows' validation rows: the same loss, up to float32 sums (an absolute
            // tolerance: rounding both to 5 places fails whenever the two straddle a rounding boundary, as 5.5289252 and 5.5289247 do).
            Assert.Equal(Metrics.NegativeLogLikelihood(flow, validation), result.FinalValidationLoss, 1e-5);
            // Restore-best put back the best step's weights, whose loss the final one repeats.
            Assert.True(result.RestoredBest);
            Assert.Equal(result.Best.Loss, result.FinalValidationLoss, 5);
            // And the training rows are the others: their NLL is not the NLL of all rows.
            double trainingNll = Metrics.NegativeLogLikelihood(flow, training), allNll = Metrics.NegativeLogLikelihood(flow, data);
            double combined = (400 * trainingNll + 100 * result.FinalValidationLoss) / 500;
            Assert.True(Math.Abs(allNll - combined) < 1e-5, $"all rows {allNll} against the weighted parts {combined} (float32 sums)");
        }
    }

    [Fact]
    public void Should_Report_No_Validation_Rows_And_A_NaN_Final_Validation_Loss_Without_A_Split()
    {
        using var data = Data(200);
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1);
        var result = Fit.ToData(flow, data, new FitOptions { Iterations = 5, BatchSize = 50 });
        Assert.Equal(200, result.TrainingRows);
        Assert.Equal(0, result.ValidationRows);
        Assert.True(double.IsNaN(result.FinalValidationLoss));
    }
}
