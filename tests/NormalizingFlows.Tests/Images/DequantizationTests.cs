using System;
using NormalizingFlows.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Images;

/// <summary>Uniform dequantisation (range, cells, reproducibility, checks) and bits per dimension on the discrete scale.</summary>
public sealed class DequantizationTests
{
    [Fact]
    public void Should_Land_In_The_Cell_Of_Each_Level_Within_Zero_To_One()
    {
        using var scope = torch.NewDisposeScope();
        var levels = torch.arange(17, dtype: ScalarType.Int64).repeat(2000);
        using var generator = new Generator(1);
        var y = Dequantization.Uniform(levels, 17, generator);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.True(y.min().ToDouble() >= 0);
        Assert.True(y.max().ToDouble() < 1);
        Assert.True(y.mul(17).floor().to(ScalarType.Int64).eq(levels).all().item<bool>(), "a value left the cell of its level");
        // The noise is uniform on each cell: mean offset 1/2, variance 1/12 (in units of one cell).
        var offsets = y.to(ScalarType.Float64).mul(17).sub(levels.to(ScalarType.Float64));
        Assert.Equal(0.5, offsets.mean().ToDouble(), 2);
        Assert.Equal(1.0 / 12, offsets.var().ToDouble(), 2);
    }

    [Fact]
    public void Should_Repeat_With_The_Same_Seed_And_Differ_With_Another()
    {
        using var scope = torch.NewDisposeScope();
        var levels = torch.tensor(new double[] { 0, 3, 16, 7 }, dtype: ScalarType.Float64);
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        using var g3 = new Generator(6);
        var a = Dequantization.Uniform(levels, 17, g1);
        var b = Dequantization.Uniform(levels, 17, g2);
        var c = Dequantization.Uniform(levels, 17, g3);
        Assert.Equal(ScalarType.Float64, a.dtype);
        Assert.Equal(0.0, a.sub(b).abs().max().ToDouble());
        Assert.True(a.sub(c).abs().max().ToDouble() > 0);
    }

    [Theory]
    [InlineData(17.0)]
    [InlineData(-1.0)]
    [InlineData(2.5)]
    public void Should_Name_A_Value_That_Is_Not_A_Level(double bad)
    {
        using var scope = torch.NewDisposeScope();
        var levels = torch.tensor(new[] { 0.0, bad, 1.0 });
        var error = Assert.Throws<ArgumentException>(() => Dequantization.Uniform(levels, 17));
        Assert.Equal("levels", error.ParamName);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.CurrentCulture), error.Message);
        Assert.Contains("0 to 16", error.Message);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(256)]
    public void Should_Give_Log2_Of_Levels_Bits_Per_Dimension_For_The_Uniform_Density(int levels)
    {
        // The uniform density on [0, 1]^D has log-density 0, so nll = 0: each value costs exactly log2(levels) bits.
        Assert.Equal(Math.Log2(levels), Dequantization.BitsPerDimension(0.0, 64, levels), 12);
    }

    [Fact]
    public void Should_Add_Log2_Levels_To_The_Continuous_Bits_Per_Dimension()
    {
        // By hand: 100 nats over 64 dimensions is 100 / (64 ln 2) = 2.2542 bits each; plus log2 17 = 4.0875.
        double expected = 100 / (64 * Math.Log(2)) + Math.Log(17) / Math.Log(2);
        Assert.Equal(expected, Dequantization.BitsPerDimension(100, 64, 17), 12);
        Assert.Equal(6.3417, Dequantization.BitsPerDimension(100, 64, 17), 4);
    }

    [Fact]
    public void Should_Match_The_Exact_Discrete_Code_Length_Of_A_Piecewise_Constant_Density()
    {
        // A density constant on each cell loses nothing to Jensen: the bound is exact. One dimension, 4 levels, P = (0.1, 0.2, 0.3, 0.4):
        // p(y) = 4 P(k) on cell k, so E[-log p] = -sum P log(4 P), and the discrete entropy in bits is -sum P log2 P.
        double[] p = { 0.1, 0.2, 0.3, 0.4 };
        double nll = 0, entropyBits = 0;
        foreach (double pk in p)
        {
            nll -= pk * Math.Log(4 * pk);
            entropyBits -= pk * Math.Log2(pk);
        }
        Assert.Equal(entropyBits, Dequantization.BitsPerDimension(nll, 1, 4), 12);
    }

    [Fact]
    public void Should_Reject_Too_Few_Levels_Or_Dimensions()
    {
        Assert.Equal("levels", Assert.Throws<ArgumentOutOfRangeException>(() => Dequantization.BitsPerDimension(1, 4, 1)).ParamName);
        Assert.Equal("dimensions", Assert.Throws<ArgumentOutOfRangeException>(() => Dequantization.BitsPerDimension(1, 0, 4)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dequantization.BitsPerDimension(double.NaN, 4, 4));
        using var levels = torch.zeros(3);
        Assert.Equal("levelCount", Assert.Throws<ArgumentOutOfRangeException>(() => Dequantization.Uniform(levels, 1)).ParamName);
    }
}
