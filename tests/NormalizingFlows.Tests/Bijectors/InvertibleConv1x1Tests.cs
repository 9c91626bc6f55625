using System;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>The invertible 1x1 convolution: the same channel-mixing matrix at every pixel, log-det scaled by the pixel
/// count, LU and full parametrisations equal at start (its training test is in Training/LayerTrainingTests).</summary>
public sealed class InvertibleConv1x1Tests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_Equal_A_1x1_Convolution_With_Pixel_Count_Times_LogDet(bool lu)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        using var layer = new InvertibleConv1x1(3, 4, 5, lu, generator);
        layer.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in layer.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        var x = torch.randn(new long[] { 2, 3, 4, 5 }, dtype: ScalarType.Float64, generator: generator);
        var (y, logAbsDet) = layer.Forward(x);
        var w = layer.Weight();
        var expected = nn.functional.conv2d(x, w.view(3, 3, 1, 1));
        Assert.True(y.sub(expected).abs().max().ToDouble() < 1e-12);
        double expectedLogDet = 20 * torch.linalg.slogdet(w).Item2.ToDouble();
        Assert.True(logAbsDet.sub(expectedLogDet).abs().max().ToDouble() < 1e-10);
    }

    [Fact]
    public void Should_Start_At_The_Same_Random_Rotation_In_Both_Parametrisations()
    {
        using var scope = torch.NewDisposeScope();
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using var lu = new InvertibleConv1x1(4, 2, 2, luDecomposed: true, generator: g1);
        using var full = new InvertibleConv1x1(4, 2, 2, luDecomposed: false, generator: g2);
        var w = lu.Weight();
        Assert.True(w.sub(full.Weight()).abs().max().ToDouble() < 1e-5);
        Assert.True(w.matmul(w.t()).sub(torch.eye(4)).abs().max().ToDouble() < 1e-5, "The initial matrix should be orthogonal.");
        Assert.True(lu.Forward(torch.randn(3, 4, 2, 2)).LogAbsDet.abs().max().ToDouble() < 1e-5);
    }

    [Fact]
    public void Should_Name_The_Image_Shape_When_Input_Is_Flat()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new InvertibleConv1x1(3, 4, 4);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(torch.zeros(8, 48)));
        Assert.Equal("Expected x with shape [batch, 3, 4, 4]; got [8, 48]. (Parameter 'x')", error.Message);
    }

    [Fact]
    public void Should_Reject_Bad_Sizes()
    {
        Assert.Equal("channels", Assert.Throws<ArgumentOutOfRangeException>(() => new InvertibleConv1x1(0, 2, 2)).ParamName);
        Assert.Equal("height", Assert.Throws<ArgumentOutOfRangeException>(() => new InvertibleConv1x1(2, 0, 2)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => new InvertibleConv1x1(2, 2, -1)).ParamName);
    }
}
