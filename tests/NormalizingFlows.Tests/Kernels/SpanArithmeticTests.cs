using System;
using System.Linq;
using System.Numerics;
using NormalizingFlows.Kernels;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>The kernels' own span arithmetic: to the bit what the element-by-element formula gives (a product then a sum; the
/// bounded log-scale through the kernels' vector <c>tanh</c>, the same for an element wherever it sits), for every length around a
/// vector's lanes, and a clear error for spans of different lengths.</summary>
public sealed class SpanArithmeticTests
{
    public static TheoryData<int> Lengths => new() { 0, 1, 7, 8, 15, 16, 17, 33, 1008 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Should_Multiply_And_Add_As_The_Scalar_Formula(int length)
    {
        var random = new Random(length);
        var x = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var accumulator = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var expected = accumulator.Select((a, i) => a + x[i] * 0.3f).ToArray();
        SpanArithmetic.MultiplyAdd<float>(x, 0.3f, accumulator);
        Assert.Equal(expected, accumulator);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Should_Give_The_Bounded_Log_Scale_Of_Every_Element_Wherever_It_Sits(int length)
    {
        var random = new Random(100 + length);
        var u = Enumerable.Range(0, length).Select(_ => (random.NextDouble() * 2 - 1) * 30).ToArray();
        const double bound = 6.9;
        var tanh = new double[length];
        var scale = new double[length];
        SpanArithmetic.BoundedLogScale<double>(u, bound, tanh, scale);
        for (int i = 0; i < length; i++)
        {
            // The element alone in a vector: the value it must have in any position.
            double alone = VectorTanh.Tanh(new Vector<double>(u[i] / bound))[0];
            Assert.Equal(alone, tanh[i]);
            Assert.Equal(alone * bound, scale[i]);
            Assert.True(Math.Abs(scale[i] - bound * Math.Tanh(u[i] / bound)) <= 1e-14 * bound, $"element {i}: {scale[i]:R}");
            Assert.True(Math.Abs(scale[i]) <= bound);
        }
    }

    [Fact]
    public void Should_Reject_Spans_Of_Different_Lengths()
    {
        Assert.Throws<ArgumentException>(() => SpanArithmetic.MultiplyAdd<float>(new float[3], 1f, new float[4]));
        Assert.Throws<ArgumentException>(() => SpanArithmetic.BoundedLogScale<float>(new float[3], 1f, new float[3], new float[2]));
    }
}
