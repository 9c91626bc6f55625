using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Elementwise bijectors near the edges of their domains, at leaky ReLU's kink, on image-shaped events, and their argument checks.</summary>
public sealed class ElementwiseBijectorTests
{
    /// <summary>One edge case: a one-feature bijector, the direction, and inputs for float32 and float64.</summary>
    private sealed record EdgeCase(Func<Bijector> Create, bool Inverse, double[] Float32Inputs, double[] Float64Inputs);

    private static readonly Dictionary<string, EdgeCase> EdgeCases = new()
    {
        ["exp-forward-large-negative"] = new(() => new Exp(1), false, new[] { -80.0, -30.0, 60.0 }, new[] { -700.0, -300.0, 600.0 }),
        ["exp-inverse-near-zero"] = new(() => new Exp(1), true, new[] { 1e-30, 1e-12, 1e30 }, new[] { 1e-300, 1e-100, 1e300 }),
        ["softplus-forward-far-out"] = new(() => new Softplus(1), false, new[] { -80.0, -30.0, 0.0, 30.0, 80.0 }, new[] { -700.0, -40.0, 0.0, 40.0, 700.0 }),
        ["softplus-inverse-near-zero-and-large"] = new(() => new Softplus(1), true, new[] { 1e-30, 1e-7, 20.0, 80.0 }, new[] { 1e-300, 1e-15, 40.0, 700.0 }),
        ["sigmoid-forward-far-out"] = new(() => new Sigmoid(1), false, new[] { -80.0, -30.0, 30.0, 80.0 }, new[] { -700.0, -40.0, 40.0, 700.0 }),
        ["sigmoid-inverse-near-zero-and-one"] = new(() => new Sigmoid(1), true, new[] { 1e-30, 1e-6, 1 - 1e-6 }, new[] { 1e-300, 1e-12, 1 - 1e-12 }),
        ["logit-forward-near-zero-and-one"] = new(() => new Logit(1), false, new[] { 1e-30, 1e-6, 1 - 1e-6 }, new[] { 1e-300, 1e-12, 1 - 1e-12 }),
        ["logit-inverse-far-out"] = new(() => new Logit(1), true, new[] { -80.0, -30.0, 30.0, 80.0 }, new[] { -700.0, -40.0, 40.0, 700.0 }),
        ["tanh-forward-far-out"] = new(() => new Tanh(1), false, new[] { -80.0, -20.0, 20.0, 80.0 }, new[] { -700.0, -40.0, 40.0, 700.0 }),
        ["tanh-inverse-near-minus-one-and-one"] = new(() => new Tanh(1), true, new[] { -1 + 1e-6, 1 - 1e-6 }, new[] { -1 + 1e-12, 1 - 1e-12 }),
        ["leaky-relu-at-and-around-kink"] = new(() => new LeakyRelu(1, 0.1), false, new[] { 0.0, -1e-30, 1e-30 }, new[] { 0.0, -1e-300, 1e-300 }),
        ["leaky-relu-inverse-at-and-around-kink"] = new(() => new LeakyRelu(1, 0.1), true, new[] { 0.0, -1e-30, 1e-30 }, new[] { 0.0, -1e-300, 1e-300 }),
        ["learnable-leaky-relu-at-and-around-kink"] = new(() => new LearnableLeakyRelu(1), false, new[] { 0.0, -1e-30, 1e-30 }, new[] { 0.0, -1e-300, 1e-300 }),
        ["learnable-leaky-relu-inverse-at-and-around-kink"] = new(() => new LearnableLeakyRelu(1), true, new[] { 0.0, -1e-30, 1e-30 }, new[] { 0.0, -1e-300, 1e-300 }),
    };

    public static IEnumerable<object[]> EdgeNames =>
        EdgeCases.Keys.SelectMany(name => new[] { new object[] { name, false }, new object[] { name, true } });

    [Theory]
    [MemberData(nameof(EdgeNames))]
    public void Should_Give_Finite_Values_And_Gradients_Near_Domain_Edges(string name, bool float64)
    {
        using var scope = torch.NewDisposeScope();
        var edge = EdgeCases[name];
        using var bijector = edge.Create();
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        bijector.to(dtype);
        var values = float64 ? edge.Float64Inputs : edge.Float32Inputs;
        var input = torch.tensor(values, dtype: dtype).reshape(-1, 1).requires_grad_(true);
        var (output, logAbsDet) = edge.Inverse ? bijector.Inverse(input) : bijector.Forward(input);
        Assert.True(output.isfinite().all().item<bool>(), $"{name}: non-finite output {Show(output)} for inputs {Show(input)}.");
        Assert.True(logAbsDet.isfinite().all().item<bool>(), $"{name}: non-finite log-det {Show(logAbsDet)} for inputs {Show(input)}.");
        output.sum().add(logAbsDet.sum()).backward();
        Assert.True(input.grad!.isfinite().all().item<bool>(), $"{name}: non-finite input gradient {Show(input.grad!)}.");
        foreach (var (parameterName, parameter) in bijector.named_parameters())
            Assert.True(parameter.grad is null || parameter.grad.isfinite().all().item<bool>(), $"{name}: non-finite gradient of {parameterName}.");
    }

    private static string Show(Tensor t) =>
        "[" + string.Join(", ", t.detach().to(ScalarType.Float64).reshape(-1).data<double>().ToArray().Select(v => v.ToString("G4"))) + "]";

    public static IEnumerable<object[]> LeakyKinds => new[] { new object[] { false }, new object[] { true } };

    private static (Bijector Bijector, double Slope) Leaky(bool learnable) => learnable
        ? (new LearnableLeakyRelu(2, initialSlope: 0.3), 0.3)
        : (new LeakyRelu(2, slope: 0.3), 0.3);

    [Theory]
    [MemberData(nameof(LeakyKinds))]
    public void Should_Use_The_Slope_Exactly_At_The_Kink_In_Both_Directions(bool learnable)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, slope) = Leaky(learnable);
        using var _ = bijector;
        bijector.to(ScalarType.Float64);
        var zeros = torch.zeros(new long[] { 3, 2 }, dtype: ScalarType.Float64);
        var (y, forwardLogDet) = bijector.Forward(zeros);
        var (x, inverseLogDet) = bijector.Inverse(zeros);
        Assert.Equal(0.0, y.abs().max().ToDouble());
        Assert.Equal(0.0, x.abs().max().ToDouble());
        double expected = 2 * Math.Log(slope);
        Assert.All(forwardLogDet.data<double>().ToArray(), v => Assert.Equal(expected, v, 1e-6));
        Assert.All(inverseLogDet.data<double>().ToArray(), v => Assert.Equal(-expected, v, 1e-6));
        // Autograd takes the same one-sided derivative at 0 as the log-det does.
        var jacobian = Jacobian.LogAbsDet(input => bijector.Forward(input).Output, zeros);
        Assert.All(jacobian.data<double>().ToArray(), v => Assert.Equal(expected, v, 1e-6));
    }

    [Theory]
    [MemberData(nameof(LeakyKinds))]
    public void Should_Have_Zero_LogDet_For_Positive_Inputs_And_Slope_For_Negative_Ones(bool learnable)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, slope) = Leaky(learnable);
        using var _ = bijector;
        var x = torch.tensor(new float[] { 1.5f, 2f, -1f, 3f, -2f, -0.5f }).reshape(3, 2);
        var (y, logAbsDet) = bijector.Forward(x);
        var expectedY = new[] { 1.5, 2, -slope, 3, -2 * slope, -0.5 * slope };
        var actualY = y.to(ScalarType.Float64).reshape(-1).data<double>().ToArray();
        for (int i = 0; i < expectedY.Length; i++) Assert.Equal(expectedY[i], actualY[i], 1e-6);
        var logDets = logAbsDet.to(ScalarType.Float64).data<double>().ToArray();
        Assert.Equal(0.0, logDets[0], 1e-6);
        Assert.Equal(Math.Log(slope), logDets[1], 1e-6);
        Assert.Equal(2 * Math.Log(slope), logDets[2], 1e-6);
    }

    [Fact]
    public void Should_Start_Learnable_Slope_At_Log_Two_Plus_Minimum_By_Default()
    {
        using var layer = new LearnableLeakyRelu(2);
        using var slope = layer.Slope();
        Assert.Equal(new long[] { 1 }, slope.shape);
        Assert.Equal(Math.Log(2) + 1e-3, slope.ToDouble(), 1e-6);
        using var chosen = new LearnableLeakyRelu(3, initialSlope: 0.05, minimumSlope: 0.01, perFeature: true);
        using var slopes = chosen.Slope();
        Assert.Equal(new long[] { 3 }, slopes.shape);
        Assert.All(slopes.data<float>().ToArray(), v => Assert.Equal(0.05, v, 1e-6));
    }

    [Fact]
    public void Should_Keep_Learnable_Slope_Above_Its_Minimum_When_Raw_Parameter_Is_Very_Negative()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new LearnableLeakyRelu(2, minimumSlope: 1e-3);
        using (torch.no_grad()) layer.parameters().Single().fill_(-1000.0);
        Assert.Equal(1e-3, layer.Slope().ToDouble(), 1e-9);
        var x = torch.tensor(new float[] { -1f, -2f }).reshape(1, 2);
        var (y, logAbsDet) = layer.Forward(x);
        var (back, _) = layer.Inverse(y);
        Assert.True(logAbsDet.isfinite().all().item<bool>());
        Assert.Equal(-1.0, back[0, 0].ToDouble(), 1e-5);
    }

    [Fact]
    public void Should_Sum_LogDet_Over_Every_Element_Of_An_Image_Event()
    {
        using var scope = torch.NewDisposeScope();
        var shape = new long[] { 3, 4, 4 };
        using var generator = new Generator(3);
        var x = torch.randn(new long[] { 2, 3, 4, 4 }, dtype: ScalarType.Float64, generator: generator);
        var layers = new Bijector[] { new Sigmoid(shape), new ElementwiseAffine(shape), new Scale(shape), new LearnableLeakyRelu(shape, perFeature: true), new Tanh(shape) };
        foreach (var layer in layers)
        {
            using var _ = layer;
            layer.to(ScalarType.Float64);
            using (torch.no_grad())
                foreach (var p in layer.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
            var (y, logAbsDet) = layer.Forward(x);
            Assert.Equal(x.shape, y.shape);
            Assert.Equal(new long[] { 2 }, logAbsDet.shape);
            // Per-row log-det of an elementwise map = the sum of the log-derivatives, checked row by row against autograd.
            var flat = x.reshape(2, -1);
            var expected = Jacobian.LogAbsDet(input => layer.Forward(input.reshape(2, 3, 4, 4)).Output.reshape(2, -1), flat);
            Assert.True(expected.sub(logAbsDet).abs().max().ToDouble() < 1e-9, $"{layer.GetType().Name}: log-det differs from autograd.");
            var (back, inverseLogAbsDet) = layer.Inverse(y);
            Assert.True(back.sub(x).abs().max().ToDouble() < 1e-9, $"{layer.GetType().Name}: round trip failed.");
            Assert.True(inverseLogAbsDet.add(logAbsDet).abs().max().ToDouble() < 1e-9);
        }
    }

    [Fact]
    public void Should_Keep_Fixed_Values_Out_Of_Parameters_And_Learnable_Ones_In()
    {
        using var fixedShift = new Shift(new[] { 1.0, 2.0 });
        using var learnableShift = new Shift(new[] { 1.0, 2.0 }, learnable: true);
        using var fixedScale = new Scale(new[] { 0.5, 4.0 });
        using var learnableScale = new Scale(2);
        Assert.Empty(fixedShift.parameters());
        Assert.Single(learnableShift.parameters());
        Assert.Empty(fixedScale.parameters());
        Assert.Single(learnableScale.parameters());
        Assert.Single(fixedShift.buffers());
        using var scaleValue = fixedScale.Value();
        Assert.Equal(new[] { 0.5f, 4.0f }, scaleValue.data<float>().ToArray().Select(v => MathF.Round(v, 5)).ToArray());
        // Fixed values follow the dtype too (they were stored in float32, hence the float32-level tolerance).
        fixedScale.to(ScalarType.Float64);
        using var x = torch.ones(new long[] { 1, 2 }, dtype: ScalarType.Float64);
        var (y, logAbsDet) = fixedScale.Forward(x);
        Assert.Equal(ScalarType.Float64, y.dtype);
        Assert.Equal(4.0, y[0, 1].ToDouble(), 1e-6);
        Assert.Equal(Math.Log(2.0), logAbsDet[0].ToDouble(), 1e-6);
        y.Dispose();
        logAbsDet.Dispose();
    }

    [Fact]
    public void Should_Reject_Bad_Arguments_With_Their_Names()
    {
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => new Exp(0)).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => new LearnableLeakyRelu(-1)).ParamName);
        foreach (double slope in new[] { 0.0, -0.5, double.NaN, double.PositiveInfinity })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyRelu(2, slope));
            Assert.Equal("slope", error.ParamName);
            Assert.Contains(slope.ToString(), error.Message);
        }
        Assert.Equal("initialSlope", Assert.Throws<ArgumentOutOfRangeException>(() => new LearnableLeakyRelu(2, initialSlope: 1e-3)).ParamName);
        Assert.Equal("minimumSlope", Assert.Throws<ArgumentOutOfRangeException>(() => new LearnableLeakyRelu(2, minimumSlope: 0)).ParamName);
        var scaleError = Assert.Throws<ArgumentException>(() => new Scale(new[] { 1.0, -2.0 }));
        Assert.Equal("scale", scaleError.ParamName);
        Assert.Contains("scale[1]", scaleError.Message);
        Assert.Equal("shift", Assert.Throws<ArgumentException>(() => new Shift(new[] { double.NaN })).ParamName);
        Assert.Equal("shift", Assert.Throws<ArgumentException>(() => new Shift(Array.Empty<double>())).ParamName);
    }
}
