using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>A conditional flow: affine couplings with a context and a conditional Gaussian base. Sampling draws one
/// sample per context row, and context mistakes fail with messages that name the widths.</summary>
public sealed class ConditionalFlowTests
{
    private const int Features = 3;
    private const int ContextFeatures = 2;

    private static Flow CreateFlow(long seed = 1)
    {
        using var generator = new Generator((ulong)seed);
        var layers = new Bijector[]
        {
            Coupling.WithMlp(Masks.Halves(Features), new[] { 16 }, contextFeatures: ContextFeatures, generator: generator),
            Permutation.Reverse(Features),
            Coupling.WithMlp(Masks.Halves(Features), new[] { 16 }, contextFeatures: ContextFeatures, generator: generator),
        };
        var flow = new Flow(new ConditionalDiagonalGaussian(Features, ContextFeatures, new[] { 16 }, generator: generator), new Chain(layers));
        using (torch.no_grad())
            foreach (var p in flow.parameters())
                p.add_(torch.randn(p.shape, generator: generator).mul(0.2));
        return flow;
    }

    [Fact]
    public void Should_Draw_One_Sample_Per_Context_Row()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = CreateFlow();
        Assert.Equal(ContextFeatures, flow.ContextFeatures);
        var context = torch.randn(50, ContextFeatures);
        using var generator = new Generator(3);
        var x = flow.Sample(50, context, generator);
        Assert.Equal(new long[] { 50, Features }, x.shape);
        var (samples, logProb) = flow.SampleWithLogProb(50, context, generator);
        Assert.Equal(new long[] { 50, Features }, samples.shape);
        Assert.Equal(new long[] { 50 }, logProb.shape);
        Assert.True(flow.LogProb(samples, context).sub(logProb).abs().max().ToDouble() < 1e-4,
            "SampleWithLogProb's log-density differs from LogProb given the same context.");
    }

    [Fact]
    public void Should_Depend_On_The_Context_When_Sampling()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = CreateFlow();
        var one = torch.full(new long[] { 4000, ContextFeatures }, 1.5f);
        var other = torch.full(new long[] { 4000, ContextFeatures }, -1.5f);
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        var a = flow.Sample(4000, one, g1).mean(new long[] { 0 });
        var b = flow.Sample(4000, other, g2).mean(new long[] { 0 });
        Assert.True(a.sub(b).abs().max().ToDouble() > 0.1, "Samples for two different contexts have the same mean.");
    }

    [Fact]
    public void Should_Name_Both_Widths_When_Context_Width_Is_Wrong()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = CreateFlow();
        var wrong = torch.randn(10, ContextFeatures + 3);
        var error = Assert.Throws<ArgumentException>(() => flow.Sample(10, wrong));
        Assert.Equal("context", error.ParamName);
        Assert.Contains($"[10, {ContextFeatures}]", error.Message);
        Assert.Contains($"[10, {ContextFeatures + 3}]", error.Message);
        var logProbError = Assert.Throws<ArgumentException>(() => flow.LogProb(torch.randn(10, Features), wrong));
        Assert.Contains($"{ContextFeatures} context features", logProbError.Message);
        Assert.Contains($"[10, {ContextFeatures + 3}]", logProbError.Message);
    }

    [Fact]
    public void Should_Name_The_Width_When_Context_Is_Missing()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = CreateFlow();
        var error = Assert.Throws<ArgumentException>(() => flow.Sample(10));
        Assert.Equal("context", error.ParamName);
        Assert.Contains($"needs a context with {ContextFeatures} features", error.Message);
        Assert.Contains($"[10, {ContextFeatures}]", error.Message);
        Assert.Throws<ArgumentException>(() => flow.SampleWithLogProb(10));
        Assert.Throws<ArgumentException>(() => flow.LogProb(torch.randn(10, Features)));
    }

    [Fact]
    public void Should_Explain_One_Sample_Per_Row_When_Count_Differs_From_Context_Rows()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = CreateFlow();
        var context = torch.randn(1, ContextFeatures);
        var error = Assert.Throws<ArgumentException>(() => flow.Sample(100, context));
        Assert.Equal("context", error.ParamName);
        Assert.Contains("one sample per context row", error.Message);
        Assert.Contains("count (100) must equal the context's rows (1)", error.Message);
        // The remedy the message gives works: repeat the row.
        Assert.Equal(new long[] { 100, Features }, flow.Sample(100, context.expand(100, -1)).shape);
    }

    [Fact]
    public void Should_Reject_A_Context_For_An_Unconditional_Flow()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        var error = Assert.Throws<ArgumentException>(() => flow.Sample(5, torch.zeros(5, 1)));
        Assert.Contains("takes no context", error.Message);
    }

    [Fact]
    public void Should_Reject_Context_Network_With_Wrong_Widths()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new ConditionalDiagonalGaussian(3, new NormalizingFlows.Conditioners.Mlp(2, 5, new[] { 8 })));
        Assert.Equal("network", error.ParamName);
        Assert.Contains("2 x 3 = 6 outputs", error.Message);
        Assert.Contains("gives 5", error.Message);
        var contextError = Assert.Throws<ArgumentOutOfRangeException>(() => new ConditionalDiagonalGaussian(3, 0, new[] { 8 }));
        Assert.Equal("contextFeatures", contextError.ParamName);
    }

    [Fact]
    public void Should_Integrate_To_One_For_A_Fixed_Context()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(2);
        using var flow = new Flow(new ConditionalDiagonalGaussian(2, 1, new[] { 8 }, generator: generator),
            Coupling.WithMlp(Masks.Halves(2), new[] { 8 }, contextFeatures: 1, generator: generator));
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, generator: generator).mul(0.2));
        flow.to(ScalarType.Float64);
        const int steps = 600;
        var grid = NormalizingFlows.Diagnostics.Metrics.Grid(-12, 12, -12, 12, steps, ScalarType.Float64);
        foreach (double c in new[] { -1.0, 0.5 })
        {
            var context = torch.full(new long[] { grid.shape[0], 1 }, c, dtype: ScalarType.Float64);
            double integral = flow.LogProb(grid, context).exp().sum().ToDouble() * (24.0 / steps) * (24.0 / steps);
            Assert.InRange(integral, 0.99, 1.01);
        }
    }
}
