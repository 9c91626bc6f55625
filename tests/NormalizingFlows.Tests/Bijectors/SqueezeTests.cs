using System;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>The squeeze: where each pixel goes, its shapes in both directions, and the errors for odd sizes.</summary>
public sealed class SqueezeTests
{
    private static double[] Values(Tensor t) => t.to(ScalarType.Float64).reshape(-1).data<double>().ToArray();

    [Fact]
    public void Should_Put_A_2x2_Block_Into_Four_Channels_When_Inverse_Squeezes_1x2x2()
    {
        using var scope = torch.NewDisposeScope();
        using var squeeze = new Squeeze(1, 2, 2);
        var image = torch.tensor(new double[] { 1, 2, 3, 4 }).view(1, 1, 2, 2); // [[1, 2], [3, 4]]
        var (squeezed, logAbsDet) = squeeze.Inverse(image);
        Assert.Equal(new long[] { 1, 4, 1, 1 }, squeezed.shape);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, Values(squeezed));
        Assert.Equal(0.0, logAbsDet.item<double>());
        var (back, _) = squeeze.Forward(squeezed);
        Assert.Equal(new long[] { 1, 1, 2, 2 }, back.shape);
        Assert.Equal(Values(image), Values(back));
    }

    [Fact]
    public void Should_Gather_Each_Row_And_Column_Parity_Into_One_Channel_When_Squeezing_1x4x4()
    {
        using var scope = torch.NewDisposeScope();
        using var squeeze = new Squeeze(1, 4, 4);
        var image = torch.arange(16, dtype: ScalarType.Float64).view(1, 1, 4, 4);
        var (squeezed, _) = squeeze.Inverse(image);
        Assert.Equal(new long[] { 1, 4, 2, 2 }, squeezed.shape);
        // Channel 2a + b holds the pixels at (2i + a, 2j + b), in row-major order of (i, j).
        Assert.Equal(new double[] { 0, 2, 8, 10 }, Values(squeezed[0, 0]));
        Assert.Equal(new double[] { 1, 3, 9, 11 }, Values(squeezed[0, 1]));
        Assert.Equal(new double[] { 4, 6, 12, 14 }, Values(squeezed[0, 2]));
        Assert.Equal(new double[] { 5, 7, 13, 15 }, Values(squeezed[0, 3]));
        Assert.Equal(Values(image), Values(squeeze.Forward(squeezed).Output));
    }

    [Fact]
    public void Should_Keep_Channels_Together_When_Squeezing_Several_Channels()
    {
        using var scope = torch.NewDisposeScope();
        using var squeeze = new Squeeze(2, 2, 2);
        var image = torch.arange(8, dtype: ScalarType.Float64).view(1, 2, 2, 2);
        var (squeezed, _) = squeeze.Inverse(image);
        Assert.Equal(new double[] { 0, 1, 2, 3, 4, 5, 6, 7 }, Values(squeezed)); // channel c fills channels 4c .. 4c + 3
        Assert.Equal(new long[] { 8, 1, 1 }, squeeze.EventShape);
        Assert.Equal(new long[] { 2, 2, 2 }, squeeze.OutputShape);
    }

    [Fact]
    public void Should_Swap_Shapes_And_Directions_When_Inverted()
    {
        using var scope = torch.NewDisposeScope();
        using var unsqueezed = new Invert(new Squeeze(1, 4, 4));
        Assert.Equal(new long[] { 1, 4, 4 }, unsqueezed.EventShape);
        Assert.Equal(new long[] { 4, 2, 2 }, unsqueezed.OutputShape);
        var image = torch.arange(16, dtype: ScalarType.Float64).view(1, 1, 4, 4);
        Assert.Equal(new double[] { 0, 2, 8, 10 }, Values(unsqueezed.Forward(image).Output[0, 0]));
    }

    [Theory]
    [InlineData(3, 4, "height")]
    [InlineData(4, 5, "width")]
    public void Should_Name_The_Shape_When_A_Side_Is_Odd(int height, int width, string paramName)
    {
        var error = Assert.Throws<ArgumentException>(() => new Squeeze(2, height, width));
        Assert.Equal(paramName, error.ParamName);
        Assert.Contains($"[2, {height}, {width}]", error.Message);
        Assert.Contains("even", error.Message);
    }

    [Fact]
    public void Should_Name_Both_Shapes_When_Inverse_Gets_A_Squeezed_Image()
    {
        using var scope = torch.NewDisposeScope();
        using var squeeze = new Squeeze(1, 4, 4);
        var error = Assert.Throws<ArgumentException>(() => squeeze.Inverse(torch.zeros(2, 4, 2, 2)));
        Assert.Equal("y", error.ParamName);
        Assert.Contains("[batch, 1, 4, 4]", error.Message);
        Assert.Contains("[2, 4, 2, 2]", error.Message);
    }

    [Fact]
    public void Should_Reject_A_Chain_Whose_Layer_Does_Not_Take_The_Shape_Before_It()
    {
        var error = Assert.Throws<ArgumentException>(() => new Chain(new Squeeze(1, 4, 4), new ActNorm(4, 2, 2)));
        Assert.Equal("layers", error.ParamName);
        Assert.Contains("[4, 2, 2]", error.Message);
        Assert.Contains("[1, 4, 4]", error.Message);
    }

    [Fact]
    public void Should_Report_Reshaped_Ends_When_Chain_Squeezes()
    {
        using var chain = new Chain(new ActNorm(4, 2, 2), new Squeeze(1, 4, 4), new ActNorm(1, 4, 4));
        Assert.Equal(new long[] { 4, 2, 2 }, chain.EventShape);
        Assert.Equal(new long[] { 1, 4, 4 }, chain.OutputShape);
    }
}
