using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Distributions;

/// <summary>The base distributions beyond the Gaussian: box uniform, Gaussian mixture, Student-t. Each integrates to one,
/// agrees with its own samples, has the moments it should, and rejects bad arguments with clear messages.</summary>
public sealed class BaseDistributionTests
{
    public static IEnumerable<object[]> Names => new[] { "box-uniform", "gaussian-mixture", "gaussian-mixture-fixed", "student-t", "student-t-trainable-dof" }
        .Select(n => new object[] { n });

    private static readonly double[,] MixtureMeans = { { -2.0, 0.0 }, { 1.5, 1.5 }, { 1.0, -2.0 } };
    private static readonly double[,] MixtureScales = { { 0.5, 1.0 }, { 0.8, 0.4 }, { 1.2, 0.7 } };
    private static readonly double[] MixtureWeights = { 0.5, 0.3, 0.2 };

    /// <summary>The distribution in float64; its parameters (if any) nudged away from their initial values.</summary>
    private static Distribution Create(string name)
    {
        Distribution d = name switch
        {
            "box-uniform" => new BoxUniform(new[] { -1.0, -2.0 }, new[] { 2.0, 1.0 }),
            "gaussian-mixture" => new GaussianMixture(3, 2, MixtureWeights, MixtureMeans, MixtureScales),
            "gaussian-mixture-fixed" => new GaussianMixture(3, 2, MixtureWeights, MixtureMeans, MixtureScales, trainable: false),
            "student-t" => new StudentT(2, degreesOfFreedom: 5, loc: new[] { 0.5, -0.5 }, scale: new[] { 1.0, 0.6 }),
            "student-t-trainable-dof" => new StudentT(2, degreesOfFreedom: 4, loc: new[] { -0.3, 0.2 }, scale: new[] { 0.7, 1.1 }, trainableDegreesOfFreedom: true),
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
        // The box [-1, 2] x [-2, 1] lies on cell edges of this grid (cells of 0.01), so the midpoint rule is exact for it;
        // the Student-t's tails beyond +-40 hold less than 1e-4 of its mass.
        double integral = name == "box-uniform"
            ? Metrics.GridIntegral(d, -3, 3, -3, 3, steps: 600)
            : Metrics.GridIntegral(d, -40, 40, -40, 40, steps: 1600);
        Assert.InRange(integral, 0.99, 1.01);
        if (name == "box-uniform") Assert.Equal(1.0, integral, 9);
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
        Assert.True(logProb.isfinite().all().ToBoolean(), "A sample got a non-finite log-density.");
        var again = d.LogProb(samples);
        Assert.True(again.sub(logProb).abs().max().ToDouble() < 1e-10, "SampleWithLogProb's log-density differs from LogProb at the same points.");
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

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Follow_Module_Dtype(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var d = Create(name);
        d.to(ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, d.Sample(4).dtype);
        Assert.Equal(ScalarType.Float32, d.LogProb(torch.zeros(3, 2)).dtype);
    }

    [Fact]
    public void Should_Give_Minus_Infinity_Outside_The_Box()
    {
        using var scope = torch.NewDisposeScope();
        using var d = new BoxUniform(new[] { -1.0, -2.0 }, new[] { 2.0, 1.0 });
        var x = torch.tensor(new float[] { 0, 0, 2, 1, -1, -2, 2.01f, 0, 0, -2.01f, 5, 5 }).reshape(6, 2);
        var logProb = d.LogProb(x).data<float>().ToArray();
        float inside = -(float)Math.Log(9.0);
        Assert.Equal(new[] { inside, inside, inside }, logProb.Take(3).ToArray());
        Assert.All(logProb.Skip(3), v => Assert.True(float.IsNegativeInfinity(v)));
    }

    [Fact]
    public void Should_Match_Moments_When_Sampling_Box_Uniform()
    {
        using var scope = torch.NewDisposeScope();
        using var d = new BoxUniform(new[] { -1.0, 10.0 }, new[] { 3.0, 10.5 });
        using var generator = new Generator(1);
        var x = d.Sample(200_000, generator: generator);
        var mean = x.mean(new long[] { 0 }).data<float>().ToArray();
        var std = x.std(0).data<float>().ToArray();
        Assert.InRange(mean[0], 0.99, 1.01);                          // (low + high) / 2
        Assert.InRange(mean[1], 10.249, 10.251);
        Assert.InRange(std[0], 4 / Math.Sqrt(12) * 0.995, 4 / Math.Sqrt(12) * 1.005);  // (high - low) / sqrt(12)
        Assert.InRange(std[1], 0.5 / Math.Sqrt(12) * 0.995, 0.5 / Math.Sqrt(12) * 1.005);
        Assert.True(x.select(1, 0).ge(-1).all().ToBoolean() && x.select(1, 0).lt(3).all().ToBoolean());
    }

    [Fact]
    public void Should_Match_Moments_When_Sampling_Gaussian_Mixture()
    {
        using var scope = torch.NewDisposeScope();
        using var d = new GaussianMixture(3, 2, MixtureWeights, MixtureMeans, MixtureScales);
        using var generator = new Generator(2);
        var x = d.Sample(400_000, generator: generator).to(ScalarType.Float64);
        for (int j = 0; j < 2; j++)
        {
            double mean = 0, second = 0;
            for (int k = 0; k < 3; k++)
            {
                mean += MixtureWeights[k] * MixtureMeans[k, j];
                second += MixtureWeights[k] * (MixtureScales[k, j] * MixtureScales[k, j] + MixtureMeans[k, j] * MixtureMeans[k, j]);
            }
            double std = Math.Sqrt(second - mean * mean);
            var column = x.select(1, j);
            Assert.InRange(column.mean().ToDouble(), mean - 0.01, mean + 0.01);
            Assert.InRange(column.std().ToDouble(), std * 0.99, std * 1.01);
        }
        var weights = d.Weights.data<float>().ToArray();
        Assert.Equal(MixtureWeights, weights.Select(w => Math.Round(w, 5)).ToArray());
    }

    [Fact]
    public void Should_Match_Moments_When_Sampling_Student_T()
    {
        using var scope = torch.NewDisposeScope();
        // nu = 8: variance scale^2 nu / (nu - 2); the mean absolute value of t(8) is 2 sqrt(8) / (7 B(1/2, 4)) = 0.88388.
        using var d = new StudentT(2, degreesOfFreedom: 8, loc: new[] { 1.0, -2.0 }, scale: new[] { 0.5, 2.0 });
        using var generator = new Generator(3);
        var x = d.Sample(400_000, generator: generator).to(ScalarType.Float64);
        double factor = Math.Sqrt(8.0 / 6.0);
        Assert.InRange(x.select(1, 0).mean().ToDouble(), 0.995, 1.005);
        Assert.InRange(x.select(1, 1).mean().ToDouble(), -2.02, -1.98);
        Assert.InRange(x.select(1, 0).std().ToDouble(), 0.5 * factor * 0.99, 0.5 * factor * 1.01);
        Assert.InRange(x.select(1, 1).std().ToDouble(), 2.0 * factor * 0.99, 2.0 * factor * 1.01);
        double meanAbs = x.select(1, 0).sub(1.0).abs().mean().ToDouble() / 0.5;
        Assert.InRange(meanAbs, 0.88388 * 0.995, 0.88388 * 1.005);
    }

    [Fact]
    public void Should_Have_Heavier_Tails_Than_A_Gaussian_When_Student_T()
    {
        using var scope = torch.NewDisposeScope();
        using var t = new StudentT(1, degreesOfFreedom: 3);
        using var normal = new StandardNormal(1);
        var far = torch.tensor(new float[] { 6f }).reshape(1, 1);
        // log t_3(6) = lgamma(2) - lgamma(1.5) - log(3 pi)/2 - 2 log(1 + 36/3) = -6.1308
        double expected = 0 - 0.5 * Math.Log(Math.PI / 4) - 0.5 * Math.Log(3 * Math.PI) - 2 * Math.Log(13);
        Assert.Equal(expected, t.LogProb(far).ToDouble(), 5);
        Assert.True(t.LogProb(far).ToDouble() > normal.LogProb(far).ToDouble() + 10);
    }

    [Fact]
    public void Should_Reject_Bad_Arguments_With_Clear_Messages()
    {
        var e1 = Assert.Throws<ArgumentException>(() => new BoxUniform(new[] { 0.0, 1.0 }, new[] { 1.0, 1.0 }));
        Assert.Equal("high", e1.ParamName);
        Assert.Contains("high[1] (1) must exceed low[1] (1)", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => new BoxUniform(new[] { 0.0, 1.0 }, new[] { 1.0 }));
        Assert.Contains("Expected high with 2 values", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => new BoxUniform(new[] { double.NaN }, new[] { 1.0 }));
        Assert.Equal("low", e3.ParamName);

        var e4 = Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianMixture(0, 2));
        Assert.Equal("components", e4.ParamName);
        var e5 = Assert.Throws<ArgumentException>(() => new GaussianMixture(2, 2, weights: new[] { 1.0, -1.0 }));
        Assert.Contains("weights[1] must be positive", e5.Message);
        var e6 = Assert.Throws<ArgumentException>(() => new GaussianMixture(2, 2, means: new double[3, 2]));
        Assert.Contains("Expected means with shape [2, 2] (components x features); got [3, 2]", e6.Message);
        var e7 = Assert.Throws<ArgumentException>(() => new GaussianMixture(1, 2, scales: new double[,] { { 1.0, 0.0 } }));
        Assert.Equal("scales", e7.ParamName);
        Assert.Contains("scales[0, 1]", e7.Message);

        var e8 = Assert.Throws<ArgumentOutOfRangeException>(() => new StudentT(2, degreesOfFreedom: 0));
        Assert.Equal("degreesOfFreedom", e8.ParamName);
        var e9 = Assert.Throws<ArgumentException>(() => new StudentT(2, scale: new[] { 1.0, -2.0 }));
        Assert.Contains("scale[1] must be positive", e9.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StudentT(0));
    }

    [Fact]
    public void Should_Name_Shapes_When_LogProb_Input_Has_Wrong_Width()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        using var d = new GaussianMixture(2, 2, generator: generator);
        var error = Assert.Throws<ArgumentException>(() => d.LogProb(torch.zeros(5, 3)));
        Assert.Equal("Expected x with shape [batch, 2]; got [5, 3]. (Parameter 'x')", error.Message);
    }

    [Fact]
    public void Should_Equal_A_Gaussian_When_Mixture_Has_One_Component()
    {
        using var scope = torch.NewDisposeScope();
        using var mixture = new GaussianMixture(1, 2, means: new double[,] { { 0.5, -1.0 } }, scales: new double[,] { { 0.7, 1.3 } });
        using var gaussian = new DiagonalGaussian(2, loc: new[] { 0.5, -1.0 }, scale: new[] { 0.7, 1.3 });
        var x = torch.randn(50, 2);
        Assert.True(mixture.LogProb(x).sub(gaussian.LogProb(x)).abs().max().ToDouble() < 1e-5);
    }
}
