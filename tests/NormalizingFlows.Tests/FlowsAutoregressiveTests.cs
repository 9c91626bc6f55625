using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>The maf, iaf, nsf-coupling, nsf-autoregressive and glow presets: catalogue entries, identity start, data-end ActNorm,
/// exact densities of their samples, context, and save/load.</summary>
public sealed class FlowsAutoregressiveTests
{
    public static TheoryData<string> Names => new() { "maf", "iaf", "nsf-coupling", "nsf-autoregressive", "glow" };

    private static readonly int[] Hidden = { 16, 16 };

    private static Flow Create(string name, int features = 3, int context = 0, long seed = 0) =>
        FlowCatalog.Get(name).Create(new PresetOptions(features, context, Layers: 2, HiddenFeatures: Hidden, Seed: seed));

    /// <summary>Moves every parameter away from its initial value (float64), so that no layer is the identity.</summary>
    private static void Perturb(Flow flow, long seed = 4)
    {
        flow.to(ScalarType.Float64);
        using var generator = new Generator((ulong)seed);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.2));
    }

    private static Tensor? Context(int width, long rows, long seed = 5) =>
        width == 0 ? null : torch.randn(new long[] { rows, width }, dtype: ScalarType.Float64, generator: new Generator((ulong)seed));

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Be_Listed_In_The_Catalog_With_An_Exact_Density(string name)
    {
        var preset = FlowCatalog.Get(name);
        Assert.Equal(name, preset.Name);
        Assert.True(preset.HasDensity);
        Assert.False(string.IsNullOrWhiteSpace(preset.Description));
        using var flow = Create(name, features: 4);
        Assert.Equal(new long[] { 4 }, flow.EventShape);
        Assert.IsType<ActNorm>(((Chain)flow.Bijector).Layers[^1]);
    }

    [Fact]
    public void Should_Say_That_Iaf_Density_Is_Exact_But_Slow()
    {
        var description = FlowCatalog.Get("iaf").Description;
        Assert.Contains("exact", description);
        Assert.Contains("slow", description);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Start_As_The_Base_Distribution(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Create(name);
        flow.eval();
        var x = torch.randn(64, 3).mul(2.0);
        Assert.True(flow.LogProb(x).sub(flow.Base.LogProb(x)).abs().max().ToDouble() < 1e-4, "A fresh preset should be the identity.");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Standardise_Data_At_The_Data_End_On_The_First_Training_Batch(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Create(name);
        flow.train();
        var data = torch.randn(256, 3, generator: new Generator(6)).mul(5.0).add(10.0);
        flow.LogProb(data);
        var actNorm = (ActNorm)((Chain)flow.Bijector).Layers[^1];
        Assert.True(actNorm.IsInitialized);
        var (standardised, _) = actNorm.Inverse(data);
        Assert.True(standardised.mean(new long[] { 0 }).abs().max().ToDouble() < 1e-4);
        Assert.True(standardised.std(0, unbiased: false).sub(1.0).abs().max().ToDouble() < 1e-3);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Give_Its_Samples_The_Density_That_LogProb_Computes(string name)
    {
        foreach (int context in new[] { 0, 2 })
        {
            using var scope = torch.NewDisposeScope();
            using var flow = Create(name, context: context);
            Perturb(flow);
            flow.eval();
            var c = Context(context, 200);
            var (x, logProb) = flow.SampleWithLogProb(200, c, new Generator(7));
            var expected = flow.LogProb(x, c);
            double error = expected.sub(logProb).abs().max().ToDouble();
            Assert.True(error < 1e-8, $"{name} (context {context}): SampleWithLogProb and LogProb disagree by {error:E2}.");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Depend_On_The_Context_When_Conditional(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Create(name, context: 2);
        Assert.Equal(2, flow.ContextFeatures);
        Perturb(flow);
        flow.eval();
        var x = torch.randn(new long[] { 50, 3 }, dtype: ScalarType.Float64);
        var c = Context(2, 50)!;
        Assert.True(flow.LogProb(x, c).sub(flow.LogProb(x, c.add(1.0))).abs().max().ToDouble() > 1e-4);
        var error = Assert.Throws<ArgumentException>(() => flow.LogProb(x));
        Assert.Equal("context", error.ParamName);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Should_Give_Identical_LogProbs_After_Save_And_Load(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Create(name, seed: 1);
        flow.train();
        flow.LogProb(torch.randn(128, 3, generator: new Generator(8)).mul(3.0).add(1.0));
        Perturb(flow);
        byte[] saved;
        using (var stream = new MemoryStream())
        {
            flow.save(stream);
            saved = stream.ToArray();
        }
        using var loaded = Create(name, seed: 2);
        loaded.to(ScalarType.Float64);
        using (var stream = new MemoryStream(saved)) loaded.load(stream);
        var x = torch.randn(new long[] { 100, 3 }, dtype: ScalarType.Float64, generator: new Generator(9)).mul(2.0);
        // In training mode too: the loaded ActNorm layers are initialised and must not re-initialise on this batch.
        foreach (bool training in new[] { false, true })
        {
            flow.train(training);
            loaded.train(training);
            Assert.Equal(0.0, flow.LogProb(x).sub(loaded.LogProb(x)).abs().max().ToDouble());
        }
    }

    [Fact]
    public void Should_Reject_Invalid_Preset_Arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Flows.Maf(layers: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Flows.Iaf(features: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Flows.NeuralSplineCoupling(bins: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Flows.NeuralSplineAutoregressive(bound: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Flows.Glow(steps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Flows.Glow(features: 1));
    }
}
