using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Internal;

/// <summary>The library's one source of random draws: on the CPU it is libtorch's own draw (same seed, same numbers); on any
/// other device a seeded draw is made on the CPU and moved (TorchSharp makes only CPU generators). The "meta" device stands in
/// for CUDA here: it takes the moving branch without a GPU.</summary>
public sealed class DrawTests
{
    [Fact]
    public void Should_Give_Libtorchs_Own_Numbers_On_The_Cpu()
    {
        using var scope = torch.NewDisposeScope();
        using var a = new Generator(5);
        using var b = new Generator(5);
        Assert.True(Same(Draw.Normal(new long[] { 7, 3 }, ScalarType.Float64, torch.CPU, a), torch.randn(new long[] { 7, 3 }, ScalarType.Float64, generator: b)));
        Assert.True(Same(Draw.Uniform(new long[] { 11 }, ScalarType.Float32, null, a), torch.rand(new long[] { 11 }, ScalarType.Float32, generator: b)));
        Assert.True(Same(Draw.Integers(2, 9, new long[] { 4, 2 }, null, a), torch.randint(2, 9, new long[] { 4, 2 }, ScalarType.Int64, generator: b)));
    }

    [Fact]
    public void Should_Use_The_Default_Dtype_When_None_Is_Named()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        Assert.Equal(torch.get_default_dtype(), Draw.Normal(new long[] { 2 }, null, null, generator).dtype);
        Assert.Equal(ScalarType.Int64, Draw.Integers(0, 3, new long[] { 2 }, null, generator).dtype);
    }

    [Fact]
    public void Should_Draw_A_Seeded_Sample_On_The_Cpu_And_Move_It_To_Another_Device()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3);
        var meta = torch.device("meta");
        var normal = Draw.Normal(new long[] { 5, 2 }, ScalarType.Float32, meta, generator);
        var uniform = Draw.Uniform(new long[] { 5 }, ScalarType.Float64, meta, generator);
        var integers = Draw.Integers(0, 4, new long[] { 6 }, meta, generator);
        Assert.All(new[] { normal, uniform, integers }, t => Assert.Equal(DeviceType.META, t.device_type));
        Assert.Equal(new long[] { 5, 2 }, normal.shape);
        Assert.Equal(ScalarType.Float64, uniform.dtype);
        // The CPU generator advanced: the same draws came from its stream.
        using var fresh = new Generator(3);
        torch.randn(new long[] { 5, 2 }, ScalarType.Float32, generator: fresh);
        torch.rand(new long[] { 5 }, ScalarType.Float64, generator: fresh);
        torch.randint(0, 4, new long[] { 6 }, ScalarType.Int64, generator: fresh);
        Assert.True(Same(Draw.Normal(new long[] { 3 }, ScalarType.Float32, torch.CPU, generator), torch.randn(new long[] { 3 }, ScalarType.Float32, generator: fresh)));
    }

    private static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.AsSpan().SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Should_Draw_Gamma_Numbers_With_The_Concentrations_Mean()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(9);
        var concentration = torch.tensor(new[] { 0.5, 2.0, 7.0 }, ScalarType.Float64).expand(200_000, 3).contiguous();
        var drawn = Draw.Gamma(concentration, generator);
        Assert.Equal(concentration.shape, drawn.shape);
        Assert.True(drawn.gt(0).all().item<bool>());
        var mean = drawn.mean(new long[] { 0 }).data<double>().ToArray();
        // Gamma(a, 1) has mean a and standard deviation sqrt(a); the mean of 200 000 draws is within 5 standard errors.
        double[] expected = { 0.5, 2.0, 7.0 };
        for (int j = 0; j < 3; j++) Assert.InRange(mean[j], expected[j] - 5 * Math.Sqrt(expected[j] / 200_000), expected[j] + 5 * Math.Sqrt(expected[j] / 200_000));
    }
}
