using System;
using System.Numerics;
using NormalizingFlows.Kernels;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>The kernels' own vector <c>tanh</c>: within a few units of the last place of 1 over the whole range, exactly the
/// argument where <c>tanh</c> rounds to it (0 at 0), odd, <c>+-1</c> at the infinities, NaN for NaN, and the same value for an
/// element whatever its position in a span.</summary>
public sealed class VectorTanhTests
{
    [Fact]
    public void Should_Be_Within_A_Few_Units_Of_One_In_Float64()
    {
        var random = new Random(3);
        double worst = 0, at = 0;
        for (int i = 0; i < 200_000; i++)
        {
            double a = (random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-9, 3));
            double error = Math.Abs(VectorTanh.Tanh(new Vector<double>(a))[0] - Math.Tanh(a));
            if (error > worst) (worst, at) = (error, a);
        }
        Assert.True(worst <= 4 * Math.BitIncrement(1.0) - 4, $"float64 tanh is {worst:E3} off at a = {at:R}.");
    }

    [Fact]
    public void Should_Be_Within_A_Few_Units_Of_One_In_Float32()
    {
        var random = new Random(4);
        double worst = 0, at = 0;
        for (int i = 0; i < 200_000; i++)
        {
            float a = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-6, 2)));
            double error = Math.Abs(VectorTanh.Tanh(new Vector<float>(a))[0] - Math.Tanh(a));
            if (error > worst) (worst, at) = (error, a);
        }
        Assert.True(worst <= 4 * (MathF.BitIncrement(1f) - 1f), $"float32 tanh is {worst:E3} off at a = {at:R}.");
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1e-300, 1e-300)]
    [InlineData(-3e-9, -3e-9)]
    [InlineData(double.PositiveInfinity, 1.0)]
    [InlineData(double.NegativeInfinity, -1.0)]
    [InlineData(40.0, 1.0)]
    [InlineData(-40.0, -1.0)]
    public void Should_Give_The_Edge_Values(double a, double expected)
    {
        Assert.Equal(expected, VectorTanh.Tanh(new Vector<double>(a))[0]);
        Assert.Equal((float)expected, VectorTanh.Tanh(new Vector<float>((float)a))[0]);
    }

    [Fact]
    public void Should_Keep_NaN_And_Be_Odd()
    {
        Assert.True(double.IsNaN(VectorTanh.Tanh(new Vector<double>(double.NaN))[0]));
        Assert.True(float.IsNaN(VectorTanh.Tanh(new Vector<float>(float.NaN))[0]));
        var random = new Random(5);
        for (int i = 0; i < 1000; i++)
        {
            double a = random.NextDouble() * 10;
            Assert.Equal(-VectorTanh.Tanh(new Vector<double>(a))[0], VectorTanh.Tanh(new Vector<double>(-a))[0]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(41)]
    public void Should_Give_Every_Element_Of_A_Span_The_Lanes_Value(int length)
    {
        var random = new Random(length);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 8 - 4);
        var y = new float[length];
        VectorTanh.Tanh<float>(x, y);
        for (int i = 0; i < length; i++) Assert.Equal(VectorTanh.Tanh(new Vector<float>(x[i]))[0], y[i]);
        VectorTanh.Tanh<float>(x, x); // in place
        Assert.Equal(y, x);
    }
}
