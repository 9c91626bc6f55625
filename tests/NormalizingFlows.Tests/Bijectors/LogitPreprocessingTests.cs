using System;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>The logit preprocessing against hand-computed values, at the ends of the unit interval, and its alpha check.</summary>
public sealed class LogitPreprocessingTests
{
    [Fact]
    public void Should_Match_Hand_Computed_Logits_And_LogDets_On_The_Data_Side()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new LogitPreprocessing(1, 1, 3, alpha: 0.05);
        var x = torch.tensor(new double[] { 0.0, 0.5, 1.0 }).view(1, 1, 1, 3);
        var (y, logAbsDet) = layer.Inverse(x);
        var values = y.reshape(-1).data<double>().ToArray();
        double edge = Math.Log(0.05 / 0.95);
        Assert.Equal(edge, values[0], 12);
        Assert.Equal(0.0, values[1], 12);
        Assert.Equal(-edge, values[2], 12);
        // log(1 - 2 alpha) - log p - log(1 - p) at p = 0.05, 0.5, 0.95.
        double expected = 3 * Math.Log(0.9) - 2 * (Math.Log(0.05) + Math.Log(0.95)) - 2 * Math.Log(0.5);
        Assert.Equal(expected, logAbsDet.item<double>(), 10);
        var (back, forwardLogDet) = layer.Forward(y);
        Assert.True(back.sub(x).abs().max().ToDouble() < 1e-12);
        Assert.Equal(-expected, forwardLogDet.item<double>(), 10);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(0.5)]
    [InlineData(double.NaN)]
    public void Should_Reject_Alpha_Outside_Zero_To_One_Half(double alpha)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LogitPreprocessing(1, 2, 2, alpha));
        Assert.Equal("alpha", error.ParamName);
    }

    [Fact]
    public void Should_Equal_The_Sigmoid_Inverse_When_Alpha_Is_Zero()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new LogitPreprocessing(new long[] { 4 }, alpha: 0);
        using var sigmoid = new Sigmoid(4);
        var x = torch.tensor(new[] { 0.1, 0.3, 0.7, 0.999 }, dtype: ScalarType.Float64).view(1, 4);
        var (y1, l1) = layer.Inverse(x);
        var (y2, l2) = sigmoid.Inverse(x);
        Assert.True(y1.sub(y2).abs().max().ToDouble() < 1e-12);
        Assert.True(l1.sub(l2).abs().max().ToDouble() < 1e-12);
    }
}
