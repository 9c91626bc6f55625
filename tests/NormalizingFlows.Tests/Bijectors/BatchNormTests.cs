using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Batch normalisation: which statistics each mode uses, the running-statistics update, and the batch-dependent
/// training-mode log-det.</summary>
public sealed class BatchNormTests
{
    private static Tensor Data(long rows, long seed)
    {
        using var generator = new Generator((ulong)seed);
        var mean = torch.tensor(new[] { 3.0, -1.0, 0.5 }, dtype: ScalarType.Float64);
        var std = torch.tensor(new[] { 2.0, 0.5, 1.0 }, dtype: ScalarType.Float64);
        return torch.randn(new long[] { rows, 3 }, dtype: ScalarType.Float64, generator: generator).mul(std).add(mean);
    }

    private static BatchNorm Create(double momentum = 0.1)
    {
        var layer = new BatchNorm(3, momentum);
        layer.to(ScalarType.Float64);
        return layer;
    }

    [Fact]
    public void Should_Normalise_With_Batch_Statistics_When_Training()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Create();
        layer.train();
        var y = Data(500, 1);
        var (x, logAbsDet) = layer.Inverse(y);
        // gamma = beta = 0: the output has mean 0 and (biased) variance v / (v + eps), per feature.
        Assert.True(x.mean(new long[] { 0 }).abs().max().ToDouble() < 1e-12);
        var variance = y.var(0, unbiased: false);
        var expected = variance.div(variance.add(layer.Epsilon));
        Assert.True(x.var(0, unbiased: false).sub(expected).abs().max().ToDouble() < 1e-12);
        var expectedLogDet = variance.add(layer.Epsilon).log().mul(-0.5).sum().ToDouble();
        Assert.True(logAbsDet.sub(expectedLogDet).abs().max().ToDouble() < 1e-12);
    }

    [Fact]
    public void Should_Update_Running_Statistics_With_Momentum_When_Training()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Create(momentum: 0.25);
        layer.train();
        var y = Data(64, 2);
        layer.Inverse(y);
        var expectedMean = y.mean(new long[] { 0 }).mul(0.25);                                 // 0.75 * 0 + 0.25 * batch mean
        var expectedVariance = y.var(0, unbiased: true).mul(0.25).add(0.75);                  // 0.75 * 1 + 0.25 * unbiased variance
        Assert.True(layer.RunningMean.sub(expectedMean).abs().max().ToDouble() < 1e-12);
        Assert.True(layer.RunningVariance.sub(expectedVariance).abs().max().ToDouble() < 1e-12);
    }

    [Fact]
    public void Should_Use_Running_Statistics_And_Leave_Them_Unchanged_When_Evaluating()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Create(momentum: 0.5);
        layer.train();
        for (int i = 0; i < 30; i++) layer.Inverse(Data(256, 10 + i));
        layer.eval();
        var mean = layer.RunningMean;
        var variance = layer.RunningVariance;
        // After many batches the running statistics approach the data's: mean (3, -1, 0.5), variance (4, 0.25, 1).
        Assert.True(mean.sub(torch.tensor(new[] { 3.0, -1.0, 0.5 }, dtype: ScalarType.Float64)).abs().max().ToDouble() < 0.3);
        Assert.True(variance.sub(torch.tensor(new[] { 4.0, 0.25, 1.0 }, dtype: ScalarType.Float64)).abs().max().ToDouble() < 0.8);
        var y = Data(5, 99);
        var (x, _) = layer.Inverse(y);
        Assert.True(x.sub(y.sub(mean).div(variance.add(layer.Epsilon).sqrt())).abs().max().ToDouble() < 1e-12);
        Assert.Equal(0.0, layer.RunningMean.sub(mean).abs().max().ToDouble());
        Assert.Equal(0.0, layer.RunningVariance.sub(variance).abs().max().ToDouble());
    }

    [Fact]
    public void Should_Give_Batch_Dependent_LogDet_When_Training_But_Not_When_Evaluating()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Create();
        var row = Data(1, 3);
        var batchA = torch.cat(new[] { row, Data(20, 4) }, 0);
        var batchB = torch.cat(new[] { row, Data(20, 5).mul(3) }, 0);
        layer.train();
        double trainA = layer.Inverse(batchA).LogAbsDet[0].ToDouble();
        double trainB = layer.Inverse(batchB).LogAbsDet[0].ToDouble();
        Assert.True(Math.Abs(trainA - trainB) > 0.1, "In training mode the same row should get a different log-det in a different batch.");
        layer.eval();
        double evalA = layer.Inverse(batchA).LogAbsDet[0].ToDouble();
        double evalB = layer.Inverse(batchB).LogAbsDet[0].ToDouble();
        Assert.Equal(evalA, evalB);
    }

    [Fact]
    public void Should_Use_Running_Statistics_In_Forward_Even_When_Training()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Create(momentum: 0.5);
        layer.train();
        for (int i = 0; i < 10; i++) layer.Inverse(Data(128, 20 + i));
        var mean = layer.RunningMean;
        var z = torch.randn(new long[] { 6, 3 }, dtype: ScalarType.Float64);
        var (trainOutput, _) = layer.Forward(z);
        Assert.Equal(0.0, layer.RunningMean.sub(mean).abs().max().ToDouble());
        layer.eval();
        var (evalOutput, _) = layer.Forward(z);
        Assert.Equal(0.0, trainOutput.sub(evalOutput).abs().max().ToDouble());
    }

    [Fact]
    public void Should_Reject_A_Single_Row_When_Training()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Create();
        layer.train();
        var error = Assert.Throws<ArgumentException>(() => layer.Inverse(Data(1, 1)));
        Assert.Contains("at least 2 rows; got 1", error.Message);
        Assert.Contains("eval()", error.Message);
        layer.eval();
        Assert.Equal(new long[] { 1, 3 }, layer.Inverse(Data(1, 1)).Output.shape);
    }

    [Fact]
    public void Should_Reject_Bad_Arguments()
    {
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm(2, momentum: 0)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm(2, momentum: 1.5)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm(2, epsilon: 0)).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm(0)).ParamName);
    }

    [Fact]
    public void Should_Keep_Running_Statistics_In_The_State_Dictionary()
    {
        using var layer = new BatchNorm(2);
        var keys = layer.state_dict().Keys.ToArray();
        Assert.Contains("runningMean", keys);
        Assert.Contains("runningVariance", keys);
        Assert.Contains("logScale", keys);
        Assert.Contains("shift", keys);
    }
}
