using System;
using System.Linq;
using NormalizingFlows.Conditioners;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Conditioners;

/// <summary>ParallelMlp: the same function, gradients, initial weights and output layout as a Stacked of separate Mlps.</summary>
public sealed class ParallelMlpTests
{
    [Theory]
    [InlineData(2, 1, 1, 0, Activation.Relu)]
    [InlineData(2, 3, 2, 0, Activation.Relu)]
    [InlineData(3, 2, 2, 4, Activation.Tanh)]
    [InlineData(2, 1, 1, 0, Activation.Elu)]
    public void Should_Equal_A_Stacked_Of_Mlps_From_The_Same_Generator(int parts, int inFeatures, int outFeatures, int contextFeatures, Activation activation)
    {
        using var scope = torch.NewDisposeScope();
        int[] hidden = { 8, 6 };
        var parallel = new ParallelMlp(parts, inFeatures, outFeatures, hidden, contextFeatures, activation, zeroInitialOutput: false, generator: new Generator(3));
        var generator = new Generator(3);
        var stacked = new Stacked(Enumerable.Range(0, parts)
            .Select(_ => (Conditioner)new Mlp(inFeatures, outFeatures, hidden, contextFeatures, activation, zeroInitialOutput: false, generator: generator)).ToArray());
        parallel.to(ScalarType.Float64);
        stacked.to(ScalarType.Float64);
        var data = new Generator(9);
        var x = inFeatures == 0 ? torch.empty(32, 0, dtype: ScalarType.Float64) : torch.randn(new long[] { 32, inFeatures }, dtype: ScalarType.Float64, generator: data);
        x.requires_grad_();
        var context = contextFeatures == 0 ? null : torch.randn(new long[] { 32, contextFeatures }, dtype: ScalarType.Float64, generator: data);
        Assert.Equal(stacked.OutFeatures, parallel.OutFeatures);

        var ours = parallel.forward(x, context);
        var theirs = stacked.forward(x, context);
        Assert.Equal(theirs.shape, ours.shape);
        Assert.True(ours.sub(theirs).abs().max().ToDouble() < 1e-12, "ParallelMlp differs from the Stacked Mlps built from the same generator");
        using (torch.no_grad())
            Assert.True(parallel.forward(x, context).sub(theirs).abs().max().ToDouble() < 1e-12, "ParallelMlp without gradients differs");

        // Gradients: with respect to the input, and each network's first-layer weight against its Mlp's.
        var probe = torch.randn(ours.shape, dtype: ScalarType.Float64, generator: data);
        var firstWeight = parallel.parameters().First();
        var ourGrads = torch.autograd.grad(new[] { ours.mul(probe).sum() }, new[] { x, firstWeight });
        var mlpWeights = stacked.Parts.Select(p => p.modules().OfType<Linear>().First().weight!).ToArray();
        var theirGrads = torch.autograd.grad(new[] { theirs.mul(probe).sum() }, new[] { x }.Concat(mlpWeights).ToArray());
        Assert.True(ourGrads[0].sub(theirGrads[0]).abs().max().ToDouble() < 1e-12, "input gradient differs");
        for (int p = 0; p < parts; p++)
            Assert.True(ourGrads[1].select(0, p).sub(theirGrads[1 + p]).abs().max().ToDouble() < 1e-12, $"first-layer weight gradient of network {p} differs");
    }

    [Fact]
    public void Should_Start_At_Zero_Output_By_Default()
    {
        using var scope = torch.NewDisposeScope();
        var parallel = new ParallelMlp(2, 1, 1, new[] { 16 }, generator: new Generator(1));
        Assert.Equal(0.0, parallel.forward(torch.randn(10, 1), null).abs().max().ToDouble());
    }

    [Fact]
    public void Should_Reject_Bad_Sizes()
    {
        Assert.Equal("parts", Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelMlp(0, 1, 1, new[] { 4 })).ParamName);
        var hidden = Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelMlp(2, 1, 1, new[] { 4, 0 }));
        Assert.Equal("hiddenFeatures", hidden.ParamName);
        Assert.Contains("hiddenFeatures[1]", hidden.Message);
    }
}
