using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Standardization: fitted mean and population scale, fixed buffers that move and save with the model, argument
/// checks, and a standardised flow whose log-densities are in data units.</summary>
public sealed class StandardizationTests
{
    private static void AssertSame(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), "The tensors should be equal element by element.");
    }

    private static Tensor Gaussian(long rows, double[] mean, double[] std, long seed, ScalarType dtype = ScalarType.Float64)
    {
        using var generator = new Generator((ulong)seed);
        var z = torch.randn(new long[] { rows, mean.Length }, dtype: ScalarType.Float64, generator: generator);
        return z.mul(torch.tensor(std)).add(torch.tensor(mean)).to(dtype);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1e-4)]
    [InlineData(ScalarType.Float64, 1e-12)]
    public void Should_Give_Zero_Mean_And_Unit_Std_When_Inverse_Maps_Training_Data(ScalarType dtype, double tolerance)
    {
        using var scope = torch.NewDisposeScope();
        var data = Gaussian(5000, new[] { 100.0, -50.0, 3.0 }, new[] { 20.0, 0.01, 1.0 }, seed: 1, dtype);
        using var standardization = Standardization.FitTo(data);
        Assert.Equal(dtype, standardization.Mean().dtype);
        var z = standardization.Inverse(data).Output;
        Assert.True(z.to(ScalarType.Float64).mean(new long[] { 0 }).abs().max().ToDouble() < tolerance, "Standardised training data should have mean 0 in every column.");
        Assert.True(z.to(ScalarType.Float64).std(0, unbiased: false).sub(1).abs().max().ToDouble() < tolerance, "Standardised training data should have population std 1 in every column.");

        var expectedScale = data.to(ScalarType.Float64).std(0, unbiased: false);
        Assert.True(standardization.Scale().to(ScalarType.Float64).sub(expectedScale).div(expectedScale).abs().max().ToDouble() < tolerance);
        var logAbsDet = standardization.Inverse(data).LogAbsDet;
        double expected = -expectedScale.log().sum().ToDouble();
        Assert.True(logAbsDet.to(ScalarType.Float64).sub(expected).abs().max().ToDouble() < 1e-4);
    }

    [Fact]
    public void Should_Map_Base_To_Data_Units_When_Forward()
    {
        using var scope = torch.NewDisposeScope();
        using var standardization = new Standardization(new[] { 1.0, -2.0 }, new[] { 0.5, 4.0 });
        var (y, logAbsDet) = standardization.Forward(torch.tensor(new[] { 0f, 0f, 2f, -1f }, new long[] { 2, 2 }));
        Assert.Equal(new[] { 1f, -2f, 2f, -6f }, y.reshape(-1).data<float>().ToArray());
        Assert.Equal(Math.Log(2.0), logAbsDet[0].ToDouble(), 6);
        Assert.Equal(Math.Log(2.0), logAbsDet[1].ToDouble(), 6);
    }

    [Fact]
    public void Should_Name_Column_When_It_Is_Constant()
    {
        using var scope = torch.NewDisposeScope();
        var data = Gaussian(50, new[] { 0.0, 0.0, 0.0 }, new[] { 1.0, 1.0, 1.0 }, seed: 2);
        data[.., 2] = torch.tensor(7.5);
        var e = Assert.Throws<ArgumentException>(() => Standardization.FitTo(data));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("Column 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("7.5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Name_Row_When_A_Value_Is_Not_Finite()
    {
        using var scope = torch.NewDisposeScope();
        var data = Gaussian(50, new[] { 0.0, 0.0 }, new[] { 1.0, 1.0 }, seed: 3);
        data[17, 1] = torch.tensor(double.NaN);
        var e = Assert.Throws<ArgumentException>(() => Standardization.FitTo(data));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("row 17", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Reject_Data_Of_Wrong_Shape_Or_Type()
    {
        using var scope = torch.NewDisposeScope();
        var flat = Assert.Throws<ArgumentException>(() => Standardization.FitTo(torch.randn(10)));
        Assert.Contains("Expected data with shape [rows, features]; got [10]", flat.Message, StringComparison.Ordinal);
        var integers = Assert.Throws<ArgumentException>(() => Standardization.FitTo(torch.ones(new long[] { 4, 2 }, dtype: ScalarType.Int64)));
        Assert.Contains("Int64", integers.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Reject_Bad_Scales_And_Mismatched_Lengths()
    {
        var zero = Assert.Throws<ArgumentException>(() => new Standardization(new[] { 0.0, 0.0 }, new[] { 1.0, 0.0 }));
        Assert.Equal("scale", zero.ParamName);
        Assert.Contains("scale[1] must be positive", zero.Message, StringComparison.Ordinal);
        var count = Assert.Throws<ArgumentException>(() => new Standardization(new[] { 0.0, 0.0 }, new[] { 1.0 }));
        Assert.Contains("Expected 2 scales", count.Message, StringComparison.Ordinal);
        var nan = Assert.Throws<ArgumentException>(() => new Standardization(new[] { double.NaN }, new[] { 1.0 }));
        Assert.Equal("mean", nan.ParamName);
        using var scope = torch.NewDisposeScope();
        var negative = Assert.Throws<ArgumentException>(() => Standardization.FromTensors(torch.zeros(2), torch.tensor(new[] { 1f, -1f })));
        Assert.Contains("scale[1]", negative.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Keep_Mean_And_Scale_As_Buffers_That_Move_And_Save()
    {
        using var scope = torch.NewDisposeScope();
        var data = Gaussian(200, new[] { 5.0, -1.0 }, new[] { 2.0, 0.1 }, seed: 4, ScalarType.Float32);
        using var fitted = Standardization.FitTo(data);
        Assert.Empty(fitted.parameters());
        Assert.Equal(new[] { "mean", "scale" }, fitted.named_buffers().Select(b => b.name).OrderBy(n => n));

        using var loaded = new Standardization(2);
        loaded.load_state_dict(fitted.state_dict());
        AssertSame(loaded.Inverse(data).Output, fitted.Inverse(data).Output);

        fitted.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, fitted.Mean().dtype);
        Assert.Equal(ScalarType.Float64, fitted.Forward(data.to(ScalarType.Float64)).Output.dtype);
    }

    [Fact]
    public void Should_Add_Standardization_LogDet_When_Flow_Is_Standardized()
    {
        using var scope = torch.NewDisposeScope();
        var train = Gaussian(1000, new[] { 100.0, -50.0 }, new[] { 20.0, 0.01 }, seed: 5);
        var inner = Flows.RealNvp(2, 4, new[] { 16 }, seed: 3);
        inner.to(ScalarType.Float64);
        using (var generator = new Generator(4))
        using (torch.no_grad())
            foreach (var p in inner.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.2));
        using var flow = inner.Standardized(train);
        var standardization = (Standardization)((Chain)flow.Bijector).Layers[1];
        var mean = standardization.Mean();
        var scale = standardization.Scale();

        var x = Gaussian(300, new[] { 100.0, -50.0 }, new[] { 30.0, 0.02 }, seed: 6);
        var expected = inner.LogProb(x.sub(mean).div(scale)).sub(scale.log().sum());
        var actual = flow.LogProb(x);
        Assert.True(expected.isfinite().all().item<bool>(), "The test points should have finite densities.");
        double difference = actual.sub(expected).abs().max().ToDouble();
        Assert.True(difference < 1e-12 * (1 + expected.abs().max().ToDouble()),
            $"log q(x) must equal log q_inner((x - m) / s) - sum(log s); largest difference {difference:E3}.");
        // Not an accident of an identity inner flow: the inner flow changes the density.
        Assert.True(inner.LogProb(x.sub(mean).div(scale)).sub(inner.Base.LogProb(x.sub(mean).div(scale))).abs().max().ToDouble() > 0.01);
    }

    [Fact]
    public void Should_Sample_In_Data_Units_When_Flow_Is_Standardized()
    {
        using var scope = torch.NewDisposeScope();
        var train = Gaussian(20_000, new[] { 100.0, -50.0 }, new[] { 20.0, 0.01 }, seed: 7, ScalarType.Float32);
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 0).Standardized(train);
        using var generator = new Generator(8);
        var samples = flow.Sample(20_000, generator: generator).to(ScalarType.Float64);
        var sampleMean = samples.mean(new long[] { 0 }).data<double>().ToArray();
        var sampleStd = samples.std(0).data<double>().ToArray();
        Assert.Equal(100.0, sampleMean[0], 1.0);
        Assert.Equal(-50.0, sampleMean[1], 0.001);
        Assert.Equal(20.0, sampleStd[0], 0.5);
        Assert.Equal(0.01, sampleStd[1], 0.0003);
    }

    [Fact]
    public void Should_Load_Saved_Standardized_Flow_Into_Placeholder()
    {
        using var scope = torch.NewDisposeScope();
        var train = Gaussian(500, new[] { 3.0, 4.0, 5.0 }, new[] { 1.0, 2.0, 3.0 }, seed: 9, ScalarType.Float32);
        using var trained = Flows.RealNvp(3, 2, new[] { 8 }, seed: 1).Standardized(train);
        var state = trained.state_dict();
        Assert.Contains(state.Keys, k => k.EndsWith("mean", StringComparison.Ordinal));
        using var rebuilt = Flows.RealNvp(3, 2, new[] { 8 }, seed: 2).Standardized(new Standardization(3));
        rebuilt.load_state_dict(state);
        AssertSame(rebuilt.LogProb(train), trained.LogProb(train));
    }

    [Fact]
    public void Should_Store_Standardization_In_Flow_Type_When_Data_Is_Float64()
    {
        using var scope = torch.NewDisposeScope();
        var train = Gaussian(100, new[] { 1.0, 2.0 }, new[] { 3.0, 4.0 }, seed: 10);
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 0).Standardized(train);
        var standardization = (Standardization)((Chain)flow.Bijector).Layers[1];
        Assert.Equal(ScalarType.Float32, standardization.Mean().dtype);
        Assert.Equal(ScalarType.Float32, flow.LogProb(train.to(ScalarType.Float32)).dtype);
    }

    [Fact]
    public void Should_Reject_Standardization_Of_Other_Width()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 0);
        var e = Assert.Throws<ArgumentException>(() => flow.Standardized(new Standardization(3)));
        Assert.Equal("standardization", e.ParamName);
        var data = Assert.Throws<ArgumentException>(() => flow.Standardized(torch.randn(10, 3)));
        Assert.Equal("trainingData", data.ParamName);
        Assert.Contains("Expected trainingData with shape [rows, 2]; got [10, 3]", data.Message, StringComparison.Ordinal);
    }
}
