using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>The NICE and leaky-coupling presets: structure, starting point, context, and catalogue entries.</summary>
public sealed class FlowsCouplingTests
{
    [Fact]
    public void Should_Start_As_The_Identity_With_Zero_LogDet_When_Fresh_Nice()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.Nice(features: 3, layers: 4, seed: 1);
        var chain = Assert.IsType<Chain>(flow.Bijector);
        Assert.IsType<Scale>(chain.Layers[0]);
        Assert.All(chain.Layers.Skip(1), layer => Assert.IsType<AdditiveTransform>(Assert.IsType<Coupling>(layer).Transform));
        var z = torch.randn(6, 3);
        var (x, logAbsDet) = flow.Bijector.Forward(z);
        Assert.Equal(0.0, x.sub(z).abs().max().ToDouble());
        Assert.Equal(0.0, logAbsDet.abs().max().ToDouble());
    }

    [Fact]
    public void Should_Alternate_Learnable_Leaky_Relu_And_Tanh_Bounded_Couplings_When_Leaky_Coupling()
    {
        using var flow = Flows.LeakyCoupling(seed: 2);
        var layers = Assert.IsType<Chain>(flow.Bijector).Layers;
        Assert.Equal(18, layers.Count);
        for (int i = 0; i < 9; i++)
        {
            Assert.IsType<LearnableLeakyRelu>(layers[2 * i]);
            var coupling = Assert.IsType<Coupling>(layers[2 * i + 1]);
            Assert.IsType<TanhBoundedAffineTransform>(coupling.Transform);
            Assert.Equal(i % 2 == 0 ? new[] { false, true } : new[] { true, false }, coupling.Mask.ToArray());
        }
        var names = flow.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(9, names.Count(n => n.EndsWith("rawSlope", StringComparison.Ordinal)));
        Assert.Equal(9, names.Count(n => n.EndsWith("transform.logBound", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("nice")]
    [InlineData("leaky-coupling")]
    public void Should_Build_A_Conditional_Flow_From_The_Catalogue_When_Context_Is_Asked_For(string name)
    {
        using var scope = torch.NewDisposeScope();
        var preset = FlowCatalog.Get(name);
        Assert.True(preset.HasDensity);
        using var flow = preset.Create(new PresetOptions(Features: 3, ContextFeatures: 2, Layers: 2, HiddenFeatures: new[] { 8 }, Seed: 3));
        Assert.Equal(2, flow.ContextFeatures);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn_like(p).mul(0.3));
        var context = torch.randn(5, 2);
        var (samples, logProb) = flow.SampleWithLogProb(5, context);
        var again = flow.LogProb(samples, context);
        Assert.True(logProb.sub(again).abs().max().ToDouble() < 1e-4, "SampleWithLogProb disagrees with LogProb.");
        var moved = flow.LogProb(samples, context.add(1.0));
        Assert.True(moved.sub(again).abs().max().ToDouble() > 1e-6, "The context does not change the density.");
        Assert.Throws<ArgumentException>(() => flow.LogProb(samples));
    }

    [Fact]
    public void Should_List_Nice_And_Leaky_Coupling_In_The_Catalogue()
    {
        var names = FlowCatalog.All.Select(p => p.Name).ToArray();
        Assert.Contains("nice", names);
        Assert.Contains("leaky-coupling", names);
        using var nice = FlowCatalog.Get("NICE").Create(new PresetOptions(2));
        Assert.Equal(5, Assert.IsType<Chain>(nice.Bijector).Layers.Count);
        using var leaky = FlowCatalog.Get("leaky-coupling").Create(new PresetOptions(2));
        Assert.Equal(18, Assert.IsType<Chain>(leaky.Bijector).Layers.Count);
    }

    [Theory]
    [InlineData("nice")]
    [InlineData("leaky-coupling")]
    public void Should_Give_Identical_Log_Probs_After_Saving_And_Loading_Weights(string name)
    {
        using var scope = torch.NewDisposeScope();
        var preset = FlowCatalog.Get(name);
        using var trained = preset.Create(new PresetOptions(2, Seed: 1));
        using (torch.no_grad())
            foreach (var p in trained.parameters()) p.add_(torch.randn_like(p).mul(0.3));
        var bytes = new System.IO.MemoryStream();
        trained.save(bytes);
        using var restored = preset.Create(new PresetOptions(2, Seed: 2));
        restored.load(new System.IO.MemoryStream(bytes.ToArray()));
        var x = torch.randn(64, 2).mul(3.0);
        Assert.Equal(0.0, trained.LogProb(x).sub(restored.LogProb(x)).abs().max().ToDouble());
    }

    [Fact]
    public void Should_Reject_Nonpositive_Layer_Counts()
    {
        Assert.Equal("layers", Assert.Throws<ArgumentOutOfRangeException>(() => Flows.Nice(layers: 0)).ParamName);
        Assert.Equal("layers", Assert.Throws<ArgumentOutOfRangeException>(() => Flows.LeakyCoupling(layers: -1)).ParamName);
    }
}
