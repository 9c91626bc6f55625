using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Distributions;

/// <summary>Base distributions (and a fresh and a perturbed flow) integrate to one and agree with their own samples.</summary>
public sealed class DistributionTests
{
    public static IEnumerable<object[]> Names => new[] { "standard-normal", "diagonal-gaussian", "diagonal-gaussian-fixed", "multivariate-gaussian", "multivariate-gaussian-fixed", "flow-real-nvp", "flow-lu-coupling" }.Select(n => new object[] { n });

    private static Distribution Create(string name)
    {
        Distribution d = name switch
        {
            "standard-normal" => new StandardNormal(2),
            "diagonal-gaussian" => new DiagonalGaussian(2, trainable: true, loc: new[] { 0.5, -1.0 }, scale: new[] { 0.7, 1.3 }),
            "diagonal-gaussian-fixed" => new DiagonalGaussian(2, trainable: false, loc: new[] { -0.2, 0.3 }, scale: new[] { 1.1, 0.6 }),
            "multivariate-gaussian" => new MultivariateGaussian(torch.tensor(new[] { 0.5, -1.0 }),
                torch.tensor(new[] { 0.8, 0.0, -0.6, 1.1 }, new long[] { 2, 2 }), trainable: true),
            "multivariate-gaussian-fixed" => new MultivariateGaussian(torch.tensor(new[] { -0.2f, 0.3f }),
                torch.tensor(new[] { 1.2f, 0f, 0.9f, 0.5f }, new long[] { 2, 2 })),
            "flow-real-nvp" => Flows.RealNvp(2, 4, new[] { 16 }, seed: 3),
            "flow-lu-coupling" => Flows.LuCoupling(2, 3, new[] { 16 }, seed: 3),
            _ => throw new ArgumentException(name),
        };
        d.to(ScalarType.Float64);
        using var generator = new Generator(5);
        using (torch.no_grad())
            foreach (var p in d.parameters())
                p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.05));
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Integrate_To_One_On_A_Grid(string name)
    {
        using var d = Create(name);
        double integral = Metrics.GridIntegral(d, -15, 15, -15, 15, steps: 1000);
        Assert.InRange(integral, 0.99, 1.01);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Agree_With_LogProb_When_Sampling_With_LogProb(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var d = Create(name);
        using var generator = new Generator(11);
        var (samples, logProb) = d.SampleWithLogProb(500, generator: generator);
        Assert.Equal(new long[] { 500, 2 }, samples.shape);
        Assert.Equal(new long[] { 500 }, logProb.shape);
        Assert.Equal(ScalarType.Float64, samples.dtype);
        var again = d.LogProb(samples);
        Assert.True(again.sub(logProb).abs().max().ToDouble() < 1e-8, "SampleWithLogProb's log-density differs from LogProb at the same points.");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Reproduce_Samples_When_Generator_Seed_Repeats(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var d = Create(name);
        using var g1 = new Generator(42);
        using var g2 = new Generator(42);
        var a = d.Sample(100, generator: g1);
        var b = d.Sample(100, generator: g2);
        Assert.Equal(0.0, a.sub(b).abs().max().ToDouble());
        Assert.False(a.requires_grad, "Sample must not track gradients.");
    }

    [Fact]
    public void Should_Match_Sample_Moments_When_Diagonal_Gaussian()
    {
        using var scope = torch.NewDisposeScope();
        using var d = new DiagonalGaussian(2, loc: new[] { 2.0, -3.0 }, scale: new[] { 0.5, 2.0 });
        using var generator = new Generator(1);
        var x = d.Sample(200_000, generator: generator);
        var mean = x.mean(new long[] { 0 }).data<float>().ToArray();
        var std = x.std(0).data<float>().ToArray();
        Assert.InRange(mean[0], 1.99, 2.01);
        Assert.InRange(mean[1], -3.03, -2.97);
        Assert.InRange(std[0], 0.495, 0.505);
        Assert.InRange(std[1], 1.98, 2.02);
    }

    [Fact]
    public void Should_Reject_Nonpositive_Count_When_Sampling()
    {
        using var d = new StandardNormal(2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => d.Sample(0));
        Assert.Equal("count", error.ParamName);
    }

    [Fact]
    public void Should_Reject_Bad_Scale_When_Constructing_Diagonal_Gaussian()
    {
        var error = Assert.Throws<ArgumentException>(() => new DiagonalGaussian(2, scale: new[] { 1.0, -1.0 }));
        Assert.Equal("scale", error.ParamName);
        Assert.Contains("scale[1]", error.Message);
    }

    [Fact]
    public void Should_Name_Shapes_When_LogProb_Input_Has_Wrong_Width()
    {
        using var scope = torch.NewDisposeScope();
        using var d = new StandardNormal(2);
        var error = Assert.Throws<ArgumentException>(() => d.LogProb(torch.zeros(512, 3)));
        Assert.Equal("x", error.ParamName);
        Assert.Equal("Expected x with shape [batch, 2]; got [512, 3]. (Parameter 'x')", error.Message);
    }

    [Fact]
    public void Should_Follow_Module_Dtype_When_Sampling_Standard_Normal()
    {
        using var scope = torch.NewDisposeScope();
        using var d = new StandardNormal(3);
        Assert.Equal(ScalarType.Float32, d.Sample(4).dtype);
        d.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, d.Sample(4).dtype);
    }
}
