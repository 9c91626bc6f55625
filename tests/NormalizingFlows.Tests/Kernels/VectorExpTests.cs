using System;
using System.Numerics;
using NormalizingFlows.Kernels;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>The kernels' own vector <c>exp</c>: within a unit in the last place over the whole finite range, and the edge values
/// libtorch's gives (exactly 1 at 0, infinities, zero below the smallest subnormal, NaN).</summary>
public sealed class VectorExpTests
{
    [Fact]
    public void Should_Be_Within_One_Unit_In_The_Last_Place_When_Float32_Results_Are_Normal()
    {
        var random = new Random(7);
        double worst = 0, at = 0;
        for (int i = 0; i < 200_000; i++)
        {
            float x = (float)(random.NextDouble() * 176 - 87);
            double exact = Math.Exp(x); // float64: exact for a float32 result to far below its last place
            float value = VectorExp.Exp(new Vector<float>(x))[0];
            double error = Math.Abs(value - exact) / (MathF.BitIncrement((float)exact) - (float)exact);
            if (error > worst) (worst, at) = (error, x);
        }
        Assert.True(worst <= 1.0, $"float32 exp is {worst:F3} units in the last place off at x = {at:R}.");
    }

    [Fact]
    public void Should_Be_Within_Two_Units_In_The_Last_Place_Of_Math_Exp_When_Float64_Results_Are_Normal()
    {
        var random = new Random(8);
        double worst = 0, at = 0;
        for (int i = 0; i < 200_000; i++)
        {
            double x = random.NextDouble() * 1416 - 708;
            double exact = Math.Exp(x);
            double value = VectorExp.Exp(new Vector<double>(x))[0];
            double error = Math.Abs(value - exact) / (Math.BitIncrement(exact) - exact);
            if (error > worst) (worst, at) = (error, x);
        }
        Assert.True(worst <= 2.0, $"float64 exp is {worst:F3} units in the last place off Math.Exp at x = {at:R}.");
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(88.73f, float.PositiveInfinity)]
    [InlineData(1000f, float.PositiveInfinity)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity, 0f)]
    [InlineData(-104f, 0f)]
    [InlineData(-1000f, 0f)]
    public void Should_Give_The_Edge_Values_When_Float32_Input_Is_Zero_Or_Beyond_The_Finite_Range(float x, float expected) =>
        Assert.Equal(expected, VectorExp.Exp(new Vector<float>(x))[0]);

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(709.79, double.PositiveInfinity)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity, 0.0)]
    [InlineData(-746.0, 0.0)]
    public void Should_Give_The_Edge_Values_When_Float64_Input_Is_Zero_Or_Beyond_The_Finite_Range(double x, double expected) =>
        Assert.Equal(expected, VectorExp.Exp(new Vector<double>(x))[0]);

    [Theory]
    [InlineData(-87.3f)]
    [InlineData(-100f)]
    [InlineData(-103.5f)]
    public void Should_Be_Within_One_Subnormal_Step_When_The_Float32_Result_Is_Subnormal(float x)
    {
        float value = VectorExp.Exp(new Vector<float>(x))[0];
        Assert.True(value > 0 && Math.Abs(value - Math.Exp(x)) <= float.Epsilon, $"exp({x}) = {value:R}, exactly {Math.Exp(x):R}.");
    }

    [Fact]
    public void Should_Give_NaN_When_Input_Is_NaN()
    {
        Assert.True(float.IsNaN(VectorExp.Exp(new Vector<float>(float.NaN))[0]));
        Assert.True(double.IsNaN(VectorExp.Exp(new Vector<double>(double.NaN))[0]));
    }

    [Fact]
    public void Should_Compute_Every_Lane_When_Lanes_Differ()
    {
        var inputs = new float[Vector<float>.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = i - 3.5f;
        var result = VectorExp.Exp(new Vector<float>(inputs));
        for (int i = 0; i < inputs.Length; i++)
            Assert.True(Math.Abs(result[i] - Math.Exp(inputs[i])) <= 2e-7 * Math.Exp(inputs[i]), $"lane {i}: {result[i]} against {Math.Exp(inputs[i])}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(37)]
    public void Should_Give_Every_Element_Of_A_Span_The_Lanes_Value(int length)
    {
        var random = new Random(length);
        var x = new double[length];
        for (int i = 0; i < length; i++) x[i] = random.NextDouble() * 40 - 20;
        var y = new double[length];
        VectorExp.Exp<double>(x, y);
        for (int i = 0; i < length; i++) Assert.Equal(VectorExp.Exp(new Vector<double>(x[i]))[0], y[i]);
        VectorExp.Exp<double>(x, x); // in place
        Assert.Equal(y, x);
    }
}
