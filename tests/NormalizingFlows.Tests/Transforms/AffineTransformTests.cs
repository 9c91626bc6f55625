using System;
using System.Linq;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Transforms;

/// <summary>The affine transform's scale maps and the additive transform.</summary>
public sealed class AffineTransformTests
{
    private static Tensor Input() => torch.tensor(new[] { -2.0, 0.5, 3.0, 7.0 }, dtype: ScalarType.Float64).reshape(2, 2);

    [Fact]
    public void Should_Use_The_Exponential_Map_By_Default()
    {
        Assert.Equal(ScaleMap.Exp, AffineTransform.Instance.ScaleMap);
        Assert.Equal(ScaleMap.Exp, new AffineTransform().ScaleMap);
        Assert.Equal(2, AffineTransform.Instance.ParametersPerFeature);
    }

    [Theory]
    [InlineData(ScaleMap.Exp)]
    [InlineData(ScaleMap.SoftClamp)]
    public void Should_Be_The_Identity_When_Parameters_Are_Zero(ScaleMap map)
    {
        using var scope = torch.NewDisposeScope();
        var transform = new AffineTransform(map);
        var x = Input();
        var (y, logAbsDet) = transform.Forward(x, torch.zeros(new long[] { 2, 2, 2 }, dtype: ScalarType.Float64));
        Assert.Equal(0.0, y.sub(x).abs().max().ToDouble());
        Assert.Equal(0.0, logAbsDet.abs().max().ToDouble());
    }

    [Fact]
    public void Should_Start_At_Scale_Sigmoid_Two_Not_The_Identity_When_Sigmoid_Map_Has_Zero_Parameters()
    {
        using var scope = torch.NewDisposeScope();
        var transform = new AffineTransform(ScaleMap.Sigmoid);
        var x = Input();
        var (y, logAbsDet) = transform.Forward(x, torch.zeros(new long[] { 2, 2, 2 }, dtype: ScalarType.Float64));
        double scale = 1 / (1 + Math.Exp(-2));
        Assert.True(y.sub(x.mul(scale)).abs().max().ToDouble() < 1e-12);
        Assert.True(logAbsDet.sub(Math.Log(scale)).abs().max().ToDouble() < 1e-12);
    }

    [Theory]
    [InlineData(ScaleMap.Sigmoid, double.NegativeInfinity, 0.0)]
    [InlineData(ScaleMap.SoftClamp, -2.0, 2.0)]
    public void Should_Bound_The_Log_Scale_And_Stay_Finite_When_Raw_Parameters_Are_Huge(ScaleMap map, double lowest, double highest)
    {
        using var scope = torch.NewDisposeScope();
        var transform = new AffineTransform(map);
        var x = Input();
        var raw = torch.tensor(new[] { 0.0, -1e6, 0.0, 1e6, 0.0, -50.0, 0.0, 50.0 }, dtype: ScalarType.Float64).reshape(2, 2, 2).requires_grad_(true);
        var (y, logAbsDet) = transform.Forward(x, raw);
        Assert.True(y.isfinite().all().item<bool>());
        Assert.True(logAbsDet.isfinite().all().item<bool>());
        Assert.True(logAbsDet.min().ToDouble() >= lowest && logAbsDet.max().ToDouble() <= highest,
            $"log-scales {string.Join(", ", logAbsDet.reshape(-1).data<double>().ToArray())} outside [{lowest}, {highest}].");
        y.sum().add(logAbsDet.sum()).backward();
        Assert.True(raw.grad!.isfinite().all().item<bool>());
        var (_, inverseLogAbsDet) = transform.Inverse(y.detach(), raw.detach());
        Assert.True(inverseLogAbsDet.add(logAbsDet.detach()).abs().max().ToDouble() < 1e-12);
        if (map == ScaleMap.SoftClamp)
        {
            // Scales stay within exp(+-bound), so even huge raw values round-trip (a sigmoid scale can underflow to 0 instead).
            var (back, _) = transform.Inverse(y.detach(), raw.detach());
            Assert.True(back.sub(x).abs().max().ToDouble() < 1e-9);
        }
    }

    [Fact]
    public void Should_Follow_Tanh_Of_Raw_Over_Bound_When_Soft_Clamping()
    {
        using var scope = torch.NewDisposeScope();
        var transform = new AffineTransform(ScaleMap.SoftClamp, bound: 3.0);
        Assert.Equal(3.0, transform.Bound);
        var raw = torch.tensor(new[] { 0.0, 1.5 }, dtype: ScalarType.Float64).reshape(1, 1, 2);
        var (_, logAbsDet) = transform.Forward(torch.ones(new long[] { 1, 1 }, dtype: ScalarType.Float64), raw);
        Assert.Equal(3.0 * Math.Tanh(0.5), logAbsDet.ToDouble(), 12);
    }

    [Fact]
    public void Should_Reject_A_Bound_That_Is_Not_Positive_And_Finite()
    {
        foreach (double bound in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
            Assert.Equal("bound", Assert.Throws<ArgumentOutOfRangeException>(() => new AffineTransform(ScaleMap.SoftClamp, bound)).ParamName);
        Assert.Equal("scaleMap", Assert.Throws<ArgumentOutOfRangeException>(() => new AffineTransform((ScaleMap)42)).ParamName);
    }

    [Fact]
    public void Should_Shift_With_Zero_LogDet_When_Additive()
    {
        using var scope = torch.NewDisposeScope();
        var transform = AdditiveTransform.Instance;
        Assert.Equal(1, transform.ParametersPerFeature);
        var x = Input();
        var shift = torch.tensor(new[] { 1.0, -2.0, 0.5, 4.0 }, dtype: ScalarType.Float64).reshape(2, 2, 1);
        var (y, logAbsDet) = transform.Forward(x, shift);
        Assert.True(y.sub(x.add(shift.squeeze(-1))).abs().max().ToDouble() < 1e-15);
        Assert.Equal(x.shape, logAbsDet.shape);
        Assert.Equal(0.0, logAbsDet.abs().max().ToDouble());
        var (back, inverseLogAbsDet) = transform.Inverse(y, shift);
        Assert.True(back.sub(x).abs().max().ToDouble() < 1e-15);
        Assert.Equal(0.0, inverseLogAbsDet.abs().max().ToDouble());
    }
}
