using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Internal;

/// <summary>Reading values out of tensors: whether every element is finite, scanned in place for contiguous CPU float tensors
/// (a non-finite value in the vector body or in the tail, either sign of infinity, NaN, either precision) and through libtorch
/// otherwise (a strided view, an integer tensor), always as <c>isfinite().all()</c> says.</summary>
public sealed class TensorValuesTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 37)]
    [InlineData(ScalarType.Float64, 37)]
    [InlineData(ScalarType.Float32, 5)]
    [InlineData(ScalarType.Float64, 1)]
    public void Should_Tell_Whether_Every_Element_Is_Finite_As_Libtorch_Does(ScalarType dtype, int length)
    {
        using var scope = torch.NewDisposeScope();
        var finite = torch.linspace(-1e30, 1e30, length, dtype: dtype);
        Assert.True(TensorValues.AllFinite(finite));
        foreach (double bad in new[] { double.PositiveInfinity, double.NegativeInfinity, double.NaN })
            foreach (int at in new[] { 0, length / 2, length - 1 })
            {
                var x = finite.clone();
                x[at] = torch.tensor(bad, dtype: dtype);
                Assert.False(TensorValues.AllFinite(x), $"{bad} at {at} of {length} ({dtype})");
                Assert.Equal(x.isfinite().all().item<bool>(), TensorValues.AllFinite(x));
            }
    }

    [Fact]
    public void Should_Check_Strided_And_Integer_Tensors_Through_Libtorch()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros(4, 6);
        x[1, 3] = torch.tensor(double.NaN);
        Assert.True(TensorValues.AllFinite(x.narrow(1, 0, 3)));   // the NaN is outside the strided view
        Assert.False(TensorValues.AllFinite(x.t()));
        Assert.True(TensorValues.AllFinite(torch.arange(10)));
        Assert.True(TensorValues.AllFinite(torch.empty(0, 3)));
    }
}
