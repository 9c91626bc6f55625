using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace NormalizingFlows.Tests.Onnx;

/// <summary>Every catalogue preset exported and scored by ONNX Runtime against the library (log-probs including rows far outside
/// the data and non-finite rows, samples from the same seeded noise), and the file-level contract of the export.</summary>
public sealed class OnnxExportTests
{
    /// <summary>The presets that have a layer without an ONNX description, and that layer.</summary>
    private static readonly Dictionary<string, string> NotExported = new(StringComparer.Ordinal)
    {
        ["planar"] = "Planar",
        ["radial"] = "Radial",
        ["residual"] = "ResidualBlock",
        ["cnf"] = "ContinuousFlow",
        ["flow-matching"] = "ContinuousFlow",
    };

    public static IEnumerable<object[]> PresetNames => FlowCatalog.All.Select(p => new object[] { p.Name });

    private static Flow Perturbed(string name, ScalarType dtype)
    {
        var flow = FlowCatalog.Get(name).Create(new PresetOptions(3, Layers: 2, HiddenFeatures: new[] { 8 }, Seed: 3));
        flow.to(dtype);
        using var generator = new Generator(5);
        using (torch.no_grad())
        {
            foreach (var p in flow.parameters())
                p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        }
        flow.eval();
        return flow;
    }

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Should_Match_The_Library_In_Float64_When_A_Preset_Is_Exported(string name) => CheckPreset(name, float64: true, tolerance: 1e-10);

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Should_Match_The_Library_In_Float32_When_A_Preset_Is_Exported(string name) => CheckPreset(name, float64: false, tolerance: 1e-5);

    private static void CheckPreset(string name, bool float64, double tolerance)
    {
        using var scope = torch.NewDisposeScope();
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        using var flow = Perturbed(name, dtype);
        var options = new OnnxExportOptions { Float64 = float64 };
        if (NotExported.TryGetValue(name, out var layer))
        {
            var error = Assert.Throws<NotSupportedException>(() => flow.ToOnnx(options));
            Assert.Contains(layer + " cannot be exported to ONNX", error.Message);
            return;
        }
        using var runner = new OnnxRunner(flow.ToOnnx(options), float64);
        using var generator = new Generator(11);
        var x = torch.randn(new long[] { 64, 3 }, dtype: ScalarType.Float64, generator: generator).mul(2.0);
        x[0] = torch.tensor(new[] { 40.0, -35.0, 1e3 }, dtype: ScalarType.Float64);
        x[1] = torch.tensor(new[] { double.PositiveInfinity, 0.0, 0.0 }, dtype: ScalarType.Float64);
        x[2] = torch.tensor(new[] { 0.5, double.NaN, 0.0 }, dtype: ScalarType.Float64);
        const long Samples = 32;
        var noise = torch.randn(new[] { Samples, 3L }, dtype: dtype, generator: new Generator(13));
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["x"] = x, ["z"] = noise }, "log_prob", "sample", "sample_log_prob");
        OnnxRunner.AssertClose(flow.LogProb(x.to(dtype)), outputs[0], tolerance, $"{name}: log_prob");
        // The library draws its base noise with torch.randn from the generator: the same seed gives the same noise.
        var (samples, logProb) = flow.SampleWithLogProb(Samples, generator: new Generator(13));
        OnnxRunner.AssertClose(samples, outputs[1], tolerance, $"{name}: sample");
        OnnxRunner.AssertClose(logProb.detach(), outputs[2], tolerance, $"{name}: sample_log_prob");
    }

    [Fact]
    public void Should_Write_A_Model_With_A_Dynamic_Batch_When_Exported_To_A_File()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1);
        var path = Path.Combine(Path.GetTempPath(), $"nflows-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            flow.ExportOnnx(path, new OnnxExportOptions { Graphs = OnnxGraphs.LogProb });
            var model = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            Assert.Equal(OnnxExportOptions.Opset, model.OpsetImport.Single(o => o.Domain == "").Version);
            Assert.Equal("x", Assert.Single(model.Graph.Input).Name);
            Assert.Equal("log_prob", Assert.Single(model.Graph.Output).Name);
            using var session = new InferenceSession(path);
            Assert.Equal(new[] { -1, 2 }, session.InputMetadata["x"].Dimensions);
            Assert.Equal(typeof(float), session.InputMetadata["x"].ElementType);
            // Written atomically: no temporary file is left beside it.
            Assert.Equal(new[] { path }, Directory.GetFiles(Path.GetDirectoryName(path)!).Where(f => f.Contains(Path.GetFileNameWithoutExtension(path), StringComparison.Ordinal)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Should_Score_Log_Probs_Alone_When_A_Model_Holds_Every_Graph()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed("real-nvp", ScalarType.Float32);
        using var runner = new OnnxRunner(flow.ToOnnx(), float64: false);
        var x = torch.randn(new long[] { 5, 3 }, generator: new Generator(2));
        var logProb = runner.Run(new Dictionary<string, Tensor> { ["x"] = x }, "log_prob")[0];
        OnnxRunner.AssertClose(flow.LogProb(x), logProb, 1e-5, "log_prob without z");
        var z = torch.randn(new long[] { 4, 3 }, generator: new Generator(3));
        var sample = runner.Run(new Dictionary<string, Tensor> { ["z"] = z }, "sample")[0];
        Assert.Equal(new long[] { 4, 3 }, sample.shape);
    }

    [Fact]
    public void Should_Match_The_Library_When_The_Base_Is_A_Diagonal_Gaussian_And_The_Chain_Has_ActNorm()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(4);
        var data = torch.randn(new long[] { 50, 3 }, dtype: ScalarType.Float64, generator: generator).mul(3.0).add(1.0);
        var actNorm = new ActNorm(3);
        var flow = new Flow(new DiagonalGaussian(3, loc: new[] { 0.5, -1.0, 2.0 }, scale: new[] { 1.5, 0.5, 2.0 }),
            new Chain(actNorm, Coupling.WithMlp(Masks.Halves(3), new[] { 8 }, generator: generator), new Standardization(new[] { 1.0, 2.0, 3.0 }, new[] { 2.0, 0.5, 1.5 })));
        flow.to(ScalarType.Float64);
        actNorm.Initialize(data);
        using (torch.no_grad()) foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        flow.eval();
        using var runner = new OnnxRunner(flow.ToOnnx(new OnnxExportOptions { Float64 = true }), float64: true);
        var noise = torch.randn(new long[] { 16, 3 }, dtype: ScalarType.Float64, generator: new Generator(21));
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["x"] = data, ["z"] = noise }, "log_prob", "sample", "sample_log_prob");
        OnnxRunner.AssertClose(flow.LogProb(data), outputs[0], 1e-10, "log_prob");
        var (samples, logProb) = flow.SampleWithLogProb(16, generator: new Generator(21));
        OnnxRunner.AssertClose(samples, outputs[1], 1e-10, "sample");
        OnnxRunner.AssertClose(logProb.detach(), outputs[2], 1e-10, "sample_log_prob");
    }

    [Fact]
    public void Should_Throw_Naming_The_Layer_And_Write_Nothing_When_A_Layer_Cannot_Be_Exported()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        using var flow = new Flow(new StandardNormal(2), new Chain(Coupling.WithMlp(Masks.Halves(2), new[] { 4 }, generator: generator), new Planar(2, generator)));
        var path = Path.Combine(Path.GetTempPath(), $"nflows-onnx-{Guid.NewGuid():N}.onnx");
        var error = Assert.Throws<NotSupportedException>(() => flow.ExportOnnx(path));
        Assert.Contains("Planar cannot be exported to ONNX", error.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Should_Throw_Naming_The_Base_When_Its_Samples_Are_Not_A_Map_Of_Normal_Noise()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = new Flow(new BoxUniform(new[] { 0.0, 0.0 }, new[] { 1.0, 1.0 }), new Shift(new[] { 0.5, 0.5 }));
        var error = Assert.Throws<NotSupportedException>(() => flow.ToOnnx(new OnnxExportOptions { Graphs = OnnxGraphs.Sample }));
        Assert.Contains("BoxUniform cannot be exported to ONNX", error.Message);
    }

    private static Bijector SmallChain(int features, int contextFeatures, Generator generator) => new Chain(
        Coupling.WithMlp(Masks.Halves(features), new[] { 8 }, contextFeatures, generator: generator),
        Permutation.Reverse(features),
        Coupling.WithMlp(Masks.Halves(features), new[] { 8 }, contextFeatures, generator: generator));

    [Theory]
    [InlineData("student-t", true)]
    [InlineData("student-t", false)]
    [InlineData("mixture", true)]
    [InlineData("mixture", false)]
    public void Should_Match_The_Library_When_The_Base_Has_Heavy_Tails_Or_Several_Modes(string baseName, bool float64)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(31);
        Distribution baseDistribution = baseName == "student-t"
            ? new StudentT(3, degreesOfFreedom: 3.5, loc: new[] { 0.5, -0.5, 1.0 }, scale: new[] { 1.0, 2.0, 0.5 })
            : new GaussianMixture(4, 3, generator: generator);
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        using var flow = new Flow(baseDistribution, SmallChain(3, 0, generator));
        flow.to(dtype);
        using (torch.no_grad()) foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        flow.eval();
        using var runner = new OnnxRunner(flow.ToOnnx(new OnnxExportOptions { Float64 = float64 }), float64);
        var x = torch.randn(new long[] { 40, 3 }, dtype: ScalarType.Float64, generator: generator).mul(3.0);
        x[0] = torch.tensor(new[] { 30.0, -40.0, 25.0 }, dtype: ScalarType.Float64);
        double tolerance = float64 ? 1e-10 : 1e-5;
        // The base's own sampler draws its noise from the generator and maps it with FromNoise; the same noise fed to the graph.
        const long Count = 40;
        var noiseGenerator = new Generator(47);
        Tensor z, baseDraw;
        var inputs = new Dictionary<string, Tensor> { ["x"] = x };
        using var noGrad = torch.no_grad();
        if (baseDistribution is StudentT studentT)
        {
            z = torch.randn(new[] { Count, 3L }, dtype: dtype, generator: noiseGenerator);
            var nu = studentT.DegreesOfFreedom;
            var chiSquare = torch._standard_gamma(nu.mul(0.5).expand(Count, 3).contiguous(), noiseGenerator).mul(2.0);
            baseDraw = studentT.FromNoise(z, chiSquare);
            inputs["chi_square"] = chiSquare;
        }
        else
        {
            var mixture = (GaussianMixture)baseDistribution;
            var uniform = torch.rand(new[] { Count }, dtype: ScalarType.Float64, generator: noiseGenerator);
            z = torch.randn(new[] { Count, 3L }, dtype: dtype, generator: noiseGenerator);
            baseDraw = mixture.FromNoise(z, uniform);
            Assert.True(mixture.CumulativeWeights().size(0) == 3, "three thresholds for four components");
            inputs["component_uniform"] = uniform;
        }
        OnnxRunner.AssertClose(baseDraw, baseDistribution.Sample(Count, generator: new Generator(47)), 0, $"{baseName}: Sample is FromNoise of its own draws");
        inputs["z"] = z;
        var outputs = runner.Run(inputs, "log_prob", "sample", "sample_log_prob");
        OnnxRunner.AssertClose(flow.LogProb(x.to(dtype)), outputs[0], tolerance, $"{baseName}: log_prob");
        var (samples, logAbsDet) = flow.Bijector.Forward(baseDraw);
        OnnxRunner.AssertClose(samples, outputs[1], tolerance, $"{baseName}: sample from the same noise");
        OnnxRunner.AssertClose(baseDistribution.LogProb(baseDraw).sub(logAbsDet), outputs[2], tolerance, $"{baseName}: sample_log_prob from the same noise");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_Match_The_Library_When_The_Flow_And_Its_Base_Take_A_Context(bool float64)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(41);
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        using var flow = new Flow(new ConditionalDiagonalGaussian(3, 2, new[] { 8 }, generator: generator), SmallChain(3, 2, generator));
        flow.to(dtype);
        using (torch.no_grad()) foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        flow.eval();
        double tolerance = float64 ? 1e-10 : 1e-5;
        using var runner = new OnnxRunner(flow.ToOnnx(new OnnxExportOptions { Float64 = float64 }), float64);
        var x = torch.randn(new long[] { 30, 3 }, dtype: ScalarType.Float64, generator: generator).mul(2.0);
        var context = torch.randn(new long[] { 30, 2 }, dtype: ScalarType.Float64, generator: generator);
        var noise = torch.randn(new long[] { 30, 3 }, dtype: dtype, generator: new Generator(43));
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["x"] = x, ["context"] = context, ["z"] = noise, ["sample_context"] = context },
            "log_prob", "sample", "sample_log_prob");
        OnnxRunner.AssertClose(flow.LogProb(x.to(dtype), context.to(dtype)), outputs[0], tolerance, "conditional log_prob");
        var (samples, logProb) = flow.SampleWithLogProb(30, context.to(dtype), new Generator(43));
        OnnxRunner.AssertClose(samples, outputs[1], tolerance, "conditional sample");
        OnnxRunner.AssertClose(logProb.detach(), outputs[2], tolerance, "conditional sample_log_prob");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_Match_The_Library_When_An_Image_Flow_Squeezes_Mixes_And_Factors_Out(bool float64)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(51);
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        using var flow = new Flow(new StandardNormal(1, 4, 4), new Chain(
            new Invert(new Squeeze(1, 4, 4)),
            new InvertibleConv1x1(4, 2, 2, luDecomposed: true, generator: generator),
            new FactorOut(new Chain(new InvertibleConv1x1(2, 2, 2, luDecomposed: false, generator: generator), new ActNorm(2, 2, 2)), 4),
            new Squeeze(1, 4, 4)));
        flow.to(dtype);
        using (torch.no_grad()) foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        flow.eval();
        using var runner = new OnnxRunner(flow.ToOnnx(new OnnxExportOptions { Float64 = float64 }), float64);
        var x = torch.randn(new long[] { 12, 1, 4, 4 }, dtype: ScalarType.Float64, generator: generator);
        var noise = torch.randn(new long[] { 12, 1, 4, 4 }, dtype: dtype, generator: new Generator(53));
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["x"] = x, ["z"] = noise }, "log_prob", "sample", "sample_log_prob");
        double tolerance = float64 ? 1e-10 : 1e-5;
        OnnxRunner.AssertClose(flow.LogProb(x.to(dtype)), outputs[0], tolerance, "image log_prob");
        var (samples, logProb) = flow.SampleWithLogProb(12, generator: new Generator(53));
        OnnxRunner.AssertClose(samples, outputs[1], tolerance, "image sample");
        OnnxRunner.AssertClose(logProb.detach(), outputs[2], tolerance, "image sample_log_prob");
    }

    [Theory]
    [InlineData("planar", true)]
    [InlineData("planar", false)]
    [InlineData("radial", true)]
    [InlineData("radial", false)]
    public void Should_Match_The_Library_When_A_Flow_Without_An_Inverse_Is_Exported_For_Sampling(string name, bool float64)
    {
        using var scope = torch.NewDisposeScope();
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        using var flow = Perturbed(name, dtype);
        var samplingOnly = new OnnxExportOptions { Float64 = float64, Graphs = OnnxGraphs.Sample | OnnxGraphs.SampleWithLogProb };
        using var runner = new OnnxRunner(flow.ToOnnx(samplingOnly), float64);
        var noise = torch.randn(new long[] { 32, 3 }, dtype: dtype, generator: new Generator(61));
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["z"] = noise }, "sample", "sample_log_prob");
        var (samples, logProb) = flow.SampleWithLogProb(32, generator: new Generator(61));
        double tolerance = float64 ? 1e-10 : 1e-5;
        OnnxRunner.AssertClose(samples, outputs[0], tolerance, $"{name}: sample");
        OnnxRunner.AssertClose(logProb.detach(), outputs[1], tolerance, $"{name}: sample_log_prob");
        var error = Assert.Throws<NotSupportedException>(() => flow.ToOnnx(new OnnxExportOptions { Float64 = float64 }));
        Assert.Contains("no closed-form inverse", error.Message);
    }
}
