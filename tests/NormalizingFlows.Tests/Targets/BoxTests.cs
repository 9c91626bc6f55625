using System;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Targets;

public sealed class BoxTests
{
    [Fact]
    public void Should_Expose_Size_And_Deconstruct()
    {
        var box = new Box(-1, 3, 2, 7);
        Assert.Equal(4, box.Width);
        Assert.Equal(5, box.Height);
        Assert.Equal(20, box.Area);
        var (xMin, xMax, yMin, yMax) = box;
        Assert.Equal((-1.0, 3.0, 2.0, 7.0), (xMin, xMax, yMin, yMax));
        Assert.Equal("[-1, 3] x [2, 7]", box.ToString());
        Assert.Equal(new Box(-1, 3, 2, 7), box);
    }

    [Fact]
    public void Should_Tell_Which_Points_Lie_Inside()
    {
        using var scope = torch.NewDisposeScope();
        var box = new Box(-1, 3, 2, 7);
        Assert.True(box.Contains(3, 2));
        Assert.False(box.Contains(3.1, 2));
        var points = torch.tensor(new[] { 0.0, 5.0, -1.0, 7.0, -2.0, 5.0, 0.0, 7.5 }, new long[] { 4, 2 });
        Assert.Equal(new[] { true, true, false, false }, box.Contains(points).data<bool>().ToArray());
        var error = Assert.Throws<ArgumentException>(() => box.Contains(torch.zeros(4, 3)));
        Assert.StartsWith("Expected points with shape [batch, 2]; got [4, 3].", error.Message);
    }

    [Fact]
    public void Should_Reject_Empty_Or_Non_Finite_Rectangles()
    {
        Assert.Equal("xMax", Assert.Throws<ArgumentException>(() => new Box(1, 1, 0, 1)).ParamName);
        Assert.Equal("yMax", Assert.Throws<ArgumentException>(() => new Box(0, 1, 2, 1)).ParamName);
        Assert.Equal("xMin", Assert.Throws<ArgumentOutOfRangeException>(() => new Box(double.NaN, 1, 0, 1)).ParamName);
        Assert.Equal("yMax", Assert.Throws<ArgumentOutOfRangeException>(() => new Box(0, 1, 0, double.PositiveInfinity)).ParamName);
    }
}
