using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>The planar, radial and residual presets, by method and by catalogue name.</summary>
public sealed class LayerPresetTests
{
    [Theory]
    [InlineData("planar", false)]
    [InlineData("radial", false)]
    [InlineData("residual", true)]
    public void Should_List_The_Preset_With_Its_Density_Flag(string name, bool hasDensity)
    {
        var preset = FlowCatalog.Get(name);
        Assert.Equal(name, preset.Name);
        Assert.Equal(hasDensity, preset.HasDensity);
        using var scope = torch.NewDisposeScope();
        using var flow = preset.Create(new PresetOptions(3, Layers: 2, HiddenFeatures: new[] { 8 }, Seed: 1));
        Assert.Equal(new long[] { 3 }, flow.EventShape);
        using var generator = new Generator(1);
        var (x, logProb) = flow.SampleWithLogProb(10, generator: generator);
        Assert.Equal(new long[] { 10, 3 }, x.shape);
        Assert.True(logProb.isfinite().all().ToBoolean());
        if (hasDensity) Assert.Equal(new long[] { 10 }, flow.LogProb(x).shape);
        else Assert.Throws<NotSupportedException>(() => flow.LogProb(x));
    }

    [Theory]
    [InlineData("planar")]
    [InlineData("radial")]
    [InlineData("residual")]
    public void Should_Reject_A_Context(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => FlowCatalog.Get(name).Create(new PresetOptions(2, ContextFeatures: 3)));
        Assert.Contains($"The {name} preset cannot be conditioned on a context", error.Message);
    }

    [Fact]
    public void Should_Build_Residual_Flow_From_Inverted_Blocks_On_A_Trainable_Gaussian()
    {
        using var flow = Flows.ResidualFlow(2, 4, new[] { 8 }, seed: 3);
        var layers = ((Chain)flow.Bijector).Layers;
        Assert.Equal(4, layers.Count);
        Assert.All(layers, l => Assert.IsType<ResidualBlock>(Assert.IsType<Invert>(l).Inner));
        Assert.IsType<DiagonalGaussian>(flow.Base);
        Assert.True(((DiagonalGaussian)flow.Base).Trainable);
    }

    [Fact]
    public void Should_Build_The_Same_Flow_From_The_Same_Seed()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var create in new Func<long, Flow>[] { s => Flows.Planar(2, 3, s), s => Flows.Radial(2, 3, s), s => Flows.ResidualFlow(2, 2, new[] { 8 }, seed: s) })
        {
            using var a = create(4);
            using var b = create(4);
            using var c = create(5);
            var pa = a.parameters().Select(p => p.detach().clone()).ToArray();
            var pb = b.parameters().Select(p => p.detach().clone()).ToArray();
            var pc = c.parameters().Select(p => p.detach().clone()).ToArray();
            Assert.All(pa.Zip(pb), p => Assert.Equal(0.0, p.First.sub(p.Second).abs().max().ToDouble()));
            Assert.Contains(pa.Zip(pc), p => p.First.sub(p.Second).abs().max().ToDouble() > 0);
        }
    }
}
