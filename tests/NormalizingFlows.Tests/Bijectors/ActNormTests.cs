using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>ActNorm: data-dependent initialisation on the first training Inverse, once, saved with the model; images per channel.</summary>
public sealed class ActNormTests
{
    private static Tensor Data(long rows, double[] mean, double[] std, long seed, ScalarType dtype = ScalarType.Float32)
    {
        using var generator = new Generator((ulong)seed);
        var z = torch.randn(new long[] { rows, mean.Length }, dtype: dtype, generator: generator);
        return z.mul(torch.tensor(std, dtype: dtype)).add(torch.tensor(mean, dtype: dtype));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Should_Standardise_First_Training_Batch_When_Inverse_Is_Called(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new ActNorm(3);
        layer.to(dtype);
        layer.train();
        Assert.False(layer.IsInitialized);
        var y = Data(500, new[] { 3.0, -2.0, 0.5 }, new[] { 0.5, 4.0, 2.0 }, seed: 1, dtype);
        var (x, logAbsDet) = layer.Inverse(y);
        Assert.True(layer.IsInitialized);
        Assert.True(x.mean(new long[] { 0 }).abs().max().ToDouble() < 1e-5, "The first batch should come out with zero mean.");
        Assert.True(x.std(0, unbiased: false).sub(1.0).abs().max().ToDouble() < 1e-4, "The first batch should come out with unit variance.");
        var expected = y.std(0, unbiased: false).log().sum().neg();
        Assert.True(logAbsDet.sub(expected).abs().max().ToDouble() < 1e-4, "The log-det should be minus the sum of the log standard deviations.");
        Assert.Equal(dtype, x.dtype);
    }

    [Fact]
    public void Should_Stay_Identity_When_Called_In_Eval_Mode_Or_Forward()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new ActNorm(2);
        var y = Data(100, new[] { 5.0, 5.0 }, new[] { 3.0, 3.0 }, seed: 2);
        layer.eval();
        var (x, logAbsDet) = layer.Inverse(y);
        Assert.Equal(0.0, x.sub(y).abs().max().ToDouble());
        Assert.Equal(0.0, logAbsDet.abs().max().ToDouble());
        layer.train();
        layer.Forward(y);
        Assert.False(layer.IsInitialized, "Forward (the sampling direction) must not initialise.");
    }

    [Fact]
    public void Should_Initialise_Only_Once()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new ActNorm(2);
        layer.train();
        layer.Inverse(Data(200, new[] { 1.0, 2.0 }, new[] { 2.0, 3.0 }, seed: 3));
        var before = layer.parameters().Select(p => p.detach().clone()).ToArray();
        layer.Inverse(Data(200, new[] { -10.0, 20.0 }, new[] { 0.1, 30.0 }, seed: 4));
        var after = layer.parameters().ToArray();
        for (int i = 0; i < before.Length; i++) Assert.Equal(0.0, before[i].sub(after[i]).abs().max().ToDouble());
    }

    [Fact]
    public void Should_Not_Reinitialise_When_Loaded_From_A_Saved_Initialised_Layer()
    {
        using var scope = torch.NewDisposeScope();
        using var original = new ActNorm(3);
        original.train();
        original.Inverse(Data(300, new[] { 1.0, -1.0, 4.0 }, new[] { 2.0, 0.5, 3.0 }, seed: 5));
        Assert.Contains(original.state_dict().Keys, k => k == "initialized");
        byte[] saved;
        using (var stream = new MemoryStream())
        {
            original.save(stream);
            saved = stream.ToArray();
        }
        using var loaded = new ActNorm(3);
        using (var stream = new MemoryStream(saved)) loaded.load(stream);
        Assert.True(loaded.IsInitialized);
        loaded.train();
        var other = Data(50, new[] { 100.0, 100.0, 100.0 }, new[] { 10.0, 10.0, 10.0 }, seed: 6);
        var (expected, expectedLogDet) = original.Inverse(other);
        var (actual, actualLogDet) = loaded.Inverse(other);
        Assert.Equal(0.0, expected.sub(actual).abs().max().ToDouble());
        Assert.Equal(0.0, expectedLogDet.sub(actualLogDet).abs().max().ToDouble());
    }

    [Fact]
    public void Should_Normalise_Each_Channel_Of_Images_Over_Rows_And_Pixels()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new ActNorm(3, 4, 5);
        Assert.Equal(new long[] { 3, 4, 5 }, layer.EventShape);
        using var generator = new Generator(7);
        var channelMean = torch.tensor(new[] { 2f, -1f, 0.5f }).view(1, 3, 1, 1);
        var channelStd = torch.tensor(new[] { 0.5f, 3f, 1f }).view(1, 3, 1, 1);
        var y = torch.randn(new long[] { 40, 3, 4, 5 }, generator: generator).mul(channelStd).add(channelMean);
        layer.train();
        var (x, logAbsDet) = layer.Inverse(y);
        var perChannel = x.transpose(0, 1).reshape(3, -1);
        Assert.True(perChannel.mean(new long[] { 1 }).abs().max().ToDouble() < 1e-5);
        Assert.True(perChannel.std(1, unbiased: false).sub(1.0).abs().max().ToDouble() < 1e-4);
        Assert.Equal(new long[] { 40 }, logAbsDet.shape);
        var (back, forwardLogDet) = layer.Forward(x);
        Assert.True(back.sub(y).abs().max().ToDouble() < 1e-5);
        Assert.True(forwardLogDet.add(logAbsDet).abs().max().ToDouble() < 1e-5);
    }

    [Fact]
    public void Should_Match_Autograd_Jacobian_On_Images()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new ActNorm(2, 3, 2);
        layer.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in layer.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype).mul(0.5));
        var x = torch.randn(new long[] { 4, 12 }, dtype: ScalarType.Float64);
        var expected = Jacobian.LogAbsDet(flat => layer.Forward(flat.view(-1, 2, 3, 2)).Output.flatten(1), x);
        var (_, logAbsDet) = layer.Forward(x.view(-1, 2, 3, 2));
        Assert.True(expected.sub(logAbsDet).abs().max().ToDouble() < 1e-10);
    }

    [Fact]
    public void Should_Initialise_Explicitly_And_Name_The_Argument_When_Shape_Is_Wrong()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new ActNorm(2);
        layer.eval();
        var data = Data(100, new[] { 3.0, 3.0 }, new[] { 2.0, 2.0 }, seed: 8);
        layer.Initialize(data);
        Assert.True(layer.IsInitialized);
        Assert.True(layer.Inverse(data).Output.mean(new long[] { 0 }).abs().max().ToDouble() < 1e-5);
        var error = Assert.Throws<ArgumentException>(() => layer.Initialize(torch.zeros(5, 3)));
        Assert.Equal("data", error.ParamName);
        Assert.Contains("[batch, 2]", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActNorm(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActNorm(3, 0, 4));
    }
}
