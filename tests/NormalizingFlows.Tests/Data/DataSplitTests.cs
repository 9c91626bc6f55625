using System;
using System.Linq;
using NormalizingFlows.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Data;

/// <summary>Train/validation/test splits: sizes, disjoint and covering, reproducible from the seed, argument checks.</summary>
public sealed class DataSplitTests
{
    private static void AssertSame(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), "The tensors should be equal element by element.");
    }

    // Row i holds (i, -i), so every row says which one it is.
    private static Tensor Rows(long n) => torch.stack(new[] { torch.arange(n, dtype: ScalarType.Float64), torch.arange(n, dtype: ScalarType.Float64).neg() }, 1);

    [Fact]
    public void Should_Make_Disjoint_Covering_Parts_Of_The_Stated_Sizes()
    {
        using var scope = torch.NewDisposeScope();
        var data = Rows(1000);
        using var split = DataSplit.Create(data, validationFraction: 0.1, testFraction: 0.25, seed: 4);
        Assert.Equal(new long[] { 650, 2 }, split.Train.shape);
        Assert.Equal(new long[] { 100, 2 }, split.Validation.shape);
        Assert.Equal(new long[] { 250, 2 }, split.Test.shape);
        var all = split.TrainRows.Concat(split.ValidationRows).Concat(split.TestRows).OrderBy(i => i).ToArray();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), all);
        Assert.Equal(split.TrainRows.Select(i => (double)i), split.Train[.., 0].data<double>().ToArray());
        Assert.Equal(split.TestRows.Select(i => -(double)i), split.Test[.., 1].data<double>().ToArray());
        Assert.Equal(split.ValidationRows.OrderBy(i => i), split.ValidationRows);
        // A random split, not the first or last rows in a block.
        Assert.NotEqual(Enumerable.Range(750, 250).Select(i => (long)i), split.TestRows);
        Assert.NotEqual(Enumerable.Range(0, 250).Select(i => (long)i), split.TestRows);
    }

    [Fact]
    public void Should_Give_Same_Rows_For_Same_Seed_And_Other_Rows_For_Other_Seed()
    {
        using var scope = torch.NewDisposeScope();
        var data = Rows(500);
        using var first = DataSplit.Create(data, 0.2, 0.2, seed: 11);
        using var again = DataSplit.Create(data, 0.2, 0.2, seed: 11);
        using var other = DataSplit.Create(data, 0.2, 0.2, seed: 12);
        Assert.Equal(first.TrainRows, again.TrainRows);
        Assert.Equal(first.ValidationRows, again.ValidationRows);
        Assert.Equal(first.TestRows, again.TestRows);
        AssertSame(first.Test, again.Test);
        Assert.NotEqual(first.TestRows, other.TestRows);
    }

    [Fact]
    public void Should_Keep_Every_Row_For_Training_When_Fractions_Are_Zero()
    {
        using var scope = torch.NewDisposeScope();
        var data = Rows(10);
        using var split = DataSplit.Create(data, 0, 0, seed: 0);
        AssertSame(split.Train, data);
        Assert.Equal(new long[] { 0, 2 }, split.Validation.shape);
        Assert.Equal(new long[] { 0, 2 }, split.Test.shape);
    }

    [Theory]
    [InlineData(-0.1, 0.2, "validationFraction")]
    [InlineData(1.0, 0.0, "validationFraction")]
    [InlineData(double.NaN, 0.0, "validationFraction")]
    [InlineData(0.1, -1e-9, "testFraction")]
    [InlineData(0.1, 1.5, "testFraction")]
    [InlineData(0.5, 0.5, "testFraction")]
    [InlineData(0.7, 0.4, "testFraction")]
    public void Should_Reject_Fractions_Outside_Range(double validation, double test, string paramName)
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DataSplit.Create(Rows(10), validation, test, seed: 0));
        Assert.Equal(paramName, e.ParamName);
        Assert.Contains(paramName, e.Message, StringComparison.Ordinal);
        Assert.Contains("got", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Reject_Split_That_Leaves_No_Training_Row()
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => DataSplit.Create(Rows(2), 0.4, 0.4, seed: 0));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("leaves none for training", e.Message, StringComparison.Ordinal);
    }
}
