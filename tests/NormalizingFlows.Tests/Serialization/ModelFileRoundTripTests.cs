using System;
using System.Linq;
using System.Text.Json.Nodes;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Distributions;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>Saving and loading whole models: every preset in both dtypes, conditional flows, base distributions alone,
/// data-initialised ActNorm, metadata and the architecture description.</summary>
public sealed class ModelFileRoundTripTests
{
    private static readonly int[] Hidden = { 8, 8 };

    public static TheoryData<string, ScalarType> PresetsAndDtypes()
    {
        var data = new TheoryData<string, ScalarType>();
        foreach (var preset in FlowCatalog.All)
        {
            data.Add(preset.Name, ScalarType.Float32);
            data.Add(preset.Name, ScalarType.Float64);
        }
        return data;
    }

    private static Flow CreatePreset(string name, ScalarType dtype, int context = 0)
    {
        var flow = FlowCatalog.Get(name).Create(new PresetOptions(3, context, Layers: 2, HiddenFeatures: Hidden, Seed: 11));
        flow.to(dtype);
        ModelFiles.Perturb(flow);
        flow.eval();
        return flow;
    }

    /// <summary>Log-densities of the same points and samples drawn with the same seed, from both models, in the same order.</summary>
    private static void AssertSameModel(Distribution expected, Distribution actual, bool hasDensity, ScalarType dtype, Tensor? context = null, long rows = 16)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        Assert.False(actual.training, "A loaded model should be in evaluation mode.");
        foreach (var (name, tensor) in expected.state_dict())
            Assert.True(ModelFiles.Identical(tensor, actual.state_dict()[name]), $"State tensor '{name}' differs after loading.");
        if (hasDensity)
        {
            using var pointsGenerator = new Generator(21);
            var x = torch.randn(new long[] { rows, expected.EventSize }, dtype: dtype, generator: pointsGenerator);
            Assert.True(ModelFiles.Identical(expected.LogProb(x, context), actual.LogProb(x, context)), "LogProb differs after loading.");
        }
        using var first = new Generator(7);
        using var second = new Generator(7);
        var (samples, logProb) = expected.SampleWithLogProb(rows, context, first);
        var (loadedSamples, loadedLogProb) = actual.SampleWithLogProb(rows, context, second);
        Assert.Equal(dtype, loadedSamples.dtype);
        Assert.True(ModelFiles.Identical(samples.detach(), loadedSamples.detach()), "Samples drawn with the same seed differ after loading.");
        Assert.True(ModelFiles.Identical(logProb.detach(), loadedLogProb.detach()), "Sample log-densities differ after loading.");
    }

    [Theory]
    [MemberData(nameof(PresetsAndDtypes))]
    public void Should_Give_Identical_Densities_And_Samples_When_A_Preset_Is_Saved_And_Loaded(string name, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var flow = CreatePreset(name, dtype);
        string path = directory.File("model" + ModelFile.Extension);
        flow.Save(path);
        using var loaded = Flow.Load(path);
        Assert.All(loaded.parameters(), p => Assert.Equal(dtype, p.dtype));
        AssertSameModel(flow, loaded, FlowCatalog.Get(name).HasDensity, dtype);
        Assert.Equal(new[] { "model.nflow" }, directory.FileNames());
    }

    [Theory]
    [InlineData("maf")]
    [InlineData("nsf-coupling")]
    [InlineData("leaky-coupling")]
    public void Should_Give_Identical_Densities_When_A_Conditional_Preset_Is_Saved_And_Loaded(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var flow = CreatePreset(name, ScalarType.Float64, context: 2);
        using var generator = new Generator(3);
        var context = torch.randn(new long[] { 16, 2 }, dtype: ScalarType.Float64, generator: generator);
        flow.Save(directory.File("conditional.nflow"));
        using var loaded = Flow.Load(directory.File("conditional.nflow"));
        Assert.Equal(2, loaded.ContextFeatures);
        AssertSameModel(flow, loaded, hasDensity: true, ScalarType.Float64, context);
    }

    [Fact]
    public void Should_Give_Identical_Densities_When_A_Flow_With_A_Conditional_Base_Is_Saved_And_Loaded()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var generator = new Generator(5);
        using var flow = new Flow(
            new ConditionalDiagonalGaussian(3, 2, Hidden, Activation.Tanh, generator),
            new Chain(Coupling.WithMlp(Masks.Halves(3), Hidden, contextFeatures: 2, generator: generator), new ActNorm(3)));
        flow.to(ScalarType.Float64);
        ModelFiles.Perturb(flow);
        flow.eval();
        var context = torch.randn(new long[] { 16, 2 }, dtype: ScalarType.Float64, generator: generator);
        flow.Save(directory.File("conditional-base.nflow"));
        using var loaded = Flow.Load(directory.File("conditional-base.nflow"));
        Assert.IsType<ConditionalDiagonalGaussian>(loaded.Base);
        AssertSameModel(flow, loaded, hasDensity: true, ScalarType.Float64, context);
    }

    public static TheoryData<string> DistributionNames => new()
    {
        "standard-normal", "diagonal-gaussian-fixed", "diagonal-gaussian-trainable", "gaussian-mixture", "gaussian-mixture-fixed",
        "student-t", "student-t-trainable-degrees", "box-uniform", "multivariate-gaussian-fixed", "multivariate-gaussian-trainable",
    };

    private static Distribution CreateDistribution(string name, Generator generator) => name switch
    {
        "standard-normal" => new StandardNormal(3),
        "diagonal-gaussian-fixed" => new DiagonalGaussian(3, trainable: false, loc: new[] { 1.0, -2.0, 0.5 }, scale: new[] { 0.5, 2.0, 1.5 }),
        "diagonal-gaussian-trainable" => new DiagonalGaussian(3),
        "gaussian-mixture" => new GaussianMixture(4, 3, weights: new[] { 1.0, 2.0, 3.0, 4.0 }, generator: generator),
        "gaussian-mixture-fixed" => new GaussianMixture(2, 3, trainable: false, generator: generator),
        "student-t" => new StudentT(3, degreesOfFreedom: 3.5, loc: new[] { 0.1, 0.2, 0.3 }, scale: new[] { 1.0, 2.0, 3.0 }, trainable: false),
        "student-t-trainable-degrees" => new StudentT(3, trainableDegreesOfFreedom: true),
        "box-uniform" => new BoxUniform(new[] { -1.0, 0.25, -3.0 }, new[] { 2.0, 0.75, 3.0 / 7.0 }),
        "multivariate-gaussian-fixed" => new MultivariateGaussian(torch.tensor(new[] { 1.0f, -2.0f, 0.5f }),
            torch.tensor(new[] { 0.5f, 0f, 0f, 0.3f, 2.0f, 0f, -0.4f, 0.2f, 1.5f }, new long[] { 3, 3 })),
        "multivariate-gaussian-trainable" => new MultivariateGaussian(3),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(DistributionNames))]
    public void Should_Give_Identical_Densities_When_A_Distribution_Alone_Is_Saved_And_Loaded(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var generator = new Generator(9);
        using var distribution = CreateDistribution(name, generator);
        distribution.to(ScalarType.Float64);
        ModelFiles.Perturb(distribution, size: 0.1);
        distribution.Save(directory.File("base.nflow"));
        using var loaded = ModelFile.Load(directory.File("base.nflow"));
        AssertSameModel(distribution, loaded, hasDensity: true, ScalarType.Float64);
    }

    [Fact]
    public void Should_Give_Identical_Outputs_When_Image_Layers_And_Fixed_Layers_Are_Saved_And_Loaded()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(6);
        var image = new long[] { 2, 3, 2 };
        using var chain = new Chain(new ActNorm(2, 3, 2), new InvertibleConv1x1(2, 3, 2, luDecomposed: true, generator),
            new InvertibleConv1x1(2, 3, 2, luDecomposed: false, generator), new ElementwiseAffine(image), new LearnableLeakyRelu(image, perFeature: true),
            new Scale(image), new Shift(image), new Tanh(image), new Invert(new Sigmoid(image)));
        using var data = torch.rand(new long[] { 32, 2, 3, 2 }, generator: generator).mul(0.8).add(0.1);
        chain.train();
        using (torch.no_grad()) chain.Inverse(data);
        chain.to(ScalarType.Float64);
        ModelFiles.Perturb(chain, size: 0.05);
        chain.eval();
        using var loaded = ModelFile.FromBytes<Bijector>(ModelFile.ToBytes(chain));
        Assert.True(loaded.modules().OfType<ActNorm>().Single().IsInitialized);
        var x = data.to(ScalarType.Float64);
        var (y, logDet) = chain.Inverse(x);
        var (loadedY, loadedLogDet) = loaded.Inverse(x);
        Assert.True(ModelFiles.Identical(y, loadedY) && ModelFiles.Identical(logDet, loadedLogDet), "Image layers differ after loading.");

        using var fixedChain = new Chain(new Scale(new[] { 0.5, 2.0 }), new Shift(new[] { 1.5, -0.25 }), new LeakyRelu(2, slope: 0.3));
        using var loadedFixed = ModelFile.FromBytes<Chain>(ModelFile.ToBytes(fixedChain));
        Assert.False(((Scale)loadedFixed.Layers[0]).IsLearnable);
        Assert.Empty(loadedFixed.parameters());
        var points = torch.randn(new long[] { 8, 2 }, generator: generator);
        Assert.True(ModelFiles.Identical(fixedChain.Forward(points).Output, loadedFixed.Forward(points).Output));
    }

    [Fact]
    public void Should_Keep_The_Box_Edges_When_A_BoxUniform_Is_Saved_And_Loaded()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var box = new BoxUniform(new[] { -1.0, 0.25 }, new[] { 2.0, 0.75 });
        box.Save(directory.File("box.nflow"));
        using var loaded = Assert.IsType<BoxUniform>(ModelFile.Load(directory.File("box.nflow")));
        var inside = torch.tensor(new float[] { 0.0f, 0.5f, 1.9f, 0.3f }, new long[] { 2, 2 });
        var outside = torch.tensor(new float[] { 2.5f, 0.5f }, new long[] { 1, 2 });
        Assert.Equal(-Math.Log(3.0 * 0.5), loaded.LogProb(inside)[0].ToDouble(), 6);
        Assert.True(double.IsNegativeInfinity(loaded.LogProb(outside)[0].ToDouble()));
    }

    [Fact]
    public void Should_Keep_ActNorm_Initialised_And_Not_Reinitialise_When_Trained_Further_After_Loading()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var flow = Flows.Maf(2, 2, Hidden, seed: 3);
        using var generator = new Generator(8);
        var data = torch.randn(new long[] { 128, 2 }, generator: generator).mul(3.0).add(5.0);
        flow.train();
        using (torch.no_grad()) flow.LogProb(data);
        var actNorm = flow.modules().OfType<ActNorm>().Single();
        Assert.True(actNorm.IsInitialized);
        flow.eval();
        flow.Save(directory.File("trained.nflow"));

        using var loaded = Flow.Load(directory.File("trained.nflow"));
        var loadedActNorm = loaded.modules().OfType<ActNorm>().Single();
        Assert.True(loadedActNorm.IsInitialized, "The loaded ActNorm lost its initialised flag.");
        var before = loadedActNorm.parameters().Select(p => p.detach().clone()).ToArray();
        loaded.train();
        using (torch.no_grad()) loaded.LogProb(torch.randn(new long[] { 64, 2 }, generator: generator).mul(0.1));
        var after = loadedActNorm.parameters().Select(p => p.detach()).ToArray();
        for (int i = 0; i < before.Length; i++)
            Assert.True(ModelFiles.Identical(before[i], after[i]), "A training-mode pass re-initialised the loaded ActNorm.");
        loaded.eval();
        Assert.True(ModelFiles.Identical(flow.LogProb(data), loaded.LogProb(data)));
    }

    [Fact]
    public void Should_Return_The_Saved_Metadata_And_Architecture()
    {
        using var directory = new TemporaryDirectory();
        using var flow = Flows.RealNvp(2, 2, Hidden);
        var metadata = new JsonObject
        {
            ["target"] = "two-moons",
            ["steps"] = 2000,
            ["optimizer"] = new JsonObject { ["name"] = "adam", ["learningRate"] = 1e-3 },
            ["hidden"] = new JsonArray(8, 8),
        };
        flow.Save(directory.File("with-metadata.nflow"), metadata);
        flow.Save(directory.File("without-metadata.nflow"));

        var read = ModelFile.ReadMetadata(directory.File("with-metadata.nflow"));
        Assert.True(JsonNode.DeepEquals(metadata, read), $"Metadata read back as {read?.ToJsonString()}.");
        Assert.Null(ModelFile.ReadMetadata(directory.File("without-metadata.nflow")));
        Assert.Null(metadata.Parent);

        var architecture = ModelFile.ReadArchitecture(directory.File("with-metadata.nflow"));
        Assert.Equal("nflows-model", (string?)architecture["format"]);
        Assert.Equal(1, (int?)architecture["formatVersion"]);
        Assert.Equal("float32", (string?)architecture["dtype"]);
        Assert.False(string.IsNullOrEmpty((string?)architecture["libraryVersion"]));
        var model = architecture["model"]!;
        Assert.Equal("Flow", (string?)model["type"]);
        Assert.Equal("StandardNormal", (string?)model["base"]!["type"]);
        Assert.Equal("Chain", (string?)model["bijector"]!["type"]);
        var coupling = model["bijector"]!["layers"]![0]!;
        Assert.Equal("Coupling", (string?)coupling["type"]);
        Assert.Equal("ParallelMlp", (string?)coupling["conditioner"]!["type"]);
        Assert.Equal("AffineTransform", (string?)coupling["transform"]!["type"]);
        Assert.Equal("SoftClamp", (string?)coupling["transform"]!["scaleMap"]);
        Assert.Equal(Flows.RealNvpLogScaleBound, (double?)coupling["transform"]!["bound"]);
    }

    [Fact]
    public void Should_Load_A_Flow_In_Float64_On_The_Requested_Device()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var flow = Flows.Nice(2, 2, Hidden);
        flow.to(ScalarType.Float64);
        flow.Save(directory.File("nice.nflow"));
        using var loaded = Flow.Load(directory.File("nice.nflow"), torch.CPU);
        Assert.All(loaded.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        Assert.All(loaded.parameters(), p => Assert.Equal(DeviceType.CPU, p.device_type));
        Assert.Equal(ScalarType.Float64, loaded.Sample(4).dtype);
    }

    [Fact]
    public void Should_Save_And_Load_Extra_Entries_With_The_Model()
    {
        using var scope = torch.NewDisposeScope();
        using var directory = new TemporaryDirectory();
        using var flow = Flows.RealNvp(2, 2, Hidden);
        ModelFiles.Perturb(flow);
        flow.eval();
        var entries = new System.Collections.Generic.Dictionary<string, byte[]>
        {
            ["optimizer.bin"] = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray(),
            ["trainer.json"] = System.Text.Encoding.UTF8.GetBytes("{\"step\": 12}"),
        };
        string path = directory.File("checkpoint.nflow");
        ModelFile.Save(flow, path, null, entries);
        var (loaded, readEntries) = ModelFile.LoadWithEntries<Flow>(path);
        using var _ = loaded;
        Assert.Equal(entries.Keys.Order(), readEntries.Keys.Order());
        foreach (var (name, bytes) in entries) Assert.Equal(bytes, readEntries[name]);
        AssertSameModel(flow, loaded, hasDensity: true, ScalarType.Float32);
        // A checkpoint is still a model file.
        using var plain = Flow.Load(path);
        var reserved = Assert.Throws<ArgumentException>(() => ModelFile.Save(flow, path, null,
            new System.Collections.Generic.Dictionary<string, byte[]> { ["weights.bin"] = new byte[1] }));
        Assert.Contains("weights.bin", reserved.Message);
    }
}
