using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace NormalizingFlows.Onnx.Tests;

/// <summary>OnnxFlow, the libtorch-free scorer, against the library that exported the model.</summary>
public sealed class OnnxFlowTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), $"nflows-onnx-tests-{Guid.NewGuid():N}");

    public OnnxFlowTests() => Directory.CreateDirectory(folder);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Moves every weight by N(0, 0.1^2) so that no layer is the identity. (Larger moves make some flows badly
    /// conditioned in float32: with 0.3 a spline coupling had rows where the library's own float32 log-prob is 4.5e-5 from its
    /// float64 one, and 1e-5 agreement between two float32 engines means nothing there.)</summary>
    private static Flow Trained(Flow flow, long seed = 5)
    {
        using var generator = new Generator((ulong)seed);
        using (torch.no_grad())
        {
            foreach (var p in flow.parameters())
                p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.1));
        }
        flow.eval();
        return flow;
    }

    private string Export(Flow flow, OnnxExportOptions? options = null)
    {
        var path = Path.Combine(folder, $"model-{Guid.NewGuid():N}.onnx");
        flow.ExportOnnx(path, options);
        return path;
    }

    private static float[,] Rows(Tensor x)
    {
        var values = x.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var rows = new float[x.size(0), x.size(1)];
        Buffer.BlockCopy(values, 0, rows, 0, values.Length * sizeof(float));
        return rows;
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!double.IsFinite(expected[i]))
            {
                Assert.True(expected[i].Equals((double)actual[i]), $"{what}: element {i} is {actual[i]} but the library gives {expected[i]}.");
                continue;
            }
            double error = Math.Abs(expected[i] - actual[i]);
            Assert.True(error <= tolerance * (1 + Math.Abs(expected[i])), $"{what}: element {i} is {actual[i]:R} but the library gives {expected[i]:R} (difference {error:E3}).");
        }
    }

    [Fact]
    public void Should_Match_The_Library_When_Scoring_Rows()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Trained(Flows.RealNvp(3, 4, new[] { 16 }, seed: 1));
        using var onnx = OnnxFlow.Load(Export(flow));
        var x = torch.randn(new long[] { 200, 3 }, generator: new Generator(2)).mul(2.0);
        x[0] = torch.tensor(new[] { float.PositiveInfinity, 0f, 0f });
        x[1] = torch.tensor(new[] { 0f, float.NaN, 0f });
        var expected = flow.LogProb(x).to(ScalarType.Float64).data<double>().ToArray();
        var rows = Rows(x);
        AssertClose(expected, onnx.LogProb(rows), 1e-5, "LogProb(float[,])");
        AssertClose(expected, onnx.LogProb(rows.Cast<float>().ToArray().AsSpan()), 1e-5, "LogProb(ReadOnlySpan<float>)");
        Assert.Equal(new long[] { 3 }, onnx.EventShape);
        Assert.Equal(3, onnx.Features);
        Assert.True(onnx.HasLogProb && onnx.CanSample);
    }

    [Fact]
    public void Should_Push_Seeded_Noise_Through_The_Flow_When_Sampling()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Trained(Flows.NeuralSplineCoupling(2, 2, new[] { 16 }, bound: 2.0, seed: 3));
        using var onnx = OnnxFlow.Load(Export(flow));
        var (samples, logProb) = onnx.SampleWithLogProb(300, seed: 42);
        var noise = torch.tensor(OnnxFlow.StandardNormalNoise(300, 2, 42), dtype: ScalarType.Float32).reshape(300, 2);
        using var noGrad = torch.no_grad();
        var (x, logAbsDet) = flow.Bijector.Forward(noise);
        var expectedSamples = x.to(ScalarType.Float64).data<double>().ToArray();
        AssertClose(expectedSamples, samples.Cast<float>().ToArray(), 1e-5, "samples");
        var expectedLogProb = flow.Base.LogProb(noise).sub(logAbsDet).to(ScalarType.Float64).data<double>().ToArray();
        AssertClose(expectedLogProb, logProb, 1e-5, "sample log-probs");
        Assert.Equal(samples.Cast<float>(), onnx.Sample(300, seed: 42).Cast<float>());
        Assert.NotEqual(samples.Cast<float>(), onnx.Sample(300, seed: 43).Cast<float>());
        // The noise is standard normal: its mean and variance over 300 x 2 draws are near 0 and 1 (4 standard errors).
        var draws = OnnxFlow.StandardNormalNoise(300, 2, 42);
        double mean = draws.Average(), variance = draws.Select(v => (v - mean) * (v - mean)).Average();
        Assert.InRange(mean, -4 / Math.Sqrt(600), 4 / Math.Sqrt(600));
        Assert.InRange(variance, 1 - 4 * Math.Sqrt(2.0 / 600), 1 + 4 * Math.Sqrt(2.0 / 600));
    }

    /// <summary>A Student-t base: the sample graph takes chi-square draws besides z, which OnnxFlow draws from the seed's second
    /// stream with the degrees of freedom in the model's metadata; a Gaussian-mixture base takes uniforms that choose the
    /// component. A float64 model; OnnxFlow returns float32 values, hence 1e-6 against the draw the test computes from the same noise.</summary>
    [Theory]
    [InlineData("student-t")]
    [InlineData("mixture")]
    public void Should_Draw_The_Extra_Noise_When_The_Base_Is_Student_T_Or_A_Mixture(string baseName)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11);
        Distribution baseDistribution = baseName == "student-t"
            ? new StudentT(2, degreesOfFreedom: 3.5, loc: new[] { 0.5, -1.0 }, scale: new[] { 1.5, 0.5 })
            : new GaussianMixture(3, 2, weights: new[] { 0.2, 0.5, 0.3 }, generator: generator);
        using var flow = new Flow(baseDistribution, Coupling.WithMlp(Masks.Halves(2), new[] { 8 }, generator: generator));
        flow.to(ScalarType.Float64);
        Trained(flow);
        using var onnx = OnnxFlow.Load(Export(flow, new OnnxExportOptions { Float64 = true }));
        const int Count = 400;
        var (samples, logProb) = onnx.SampleWithLogProb(Count, seed: 5);
        var z = torch.tensor(OnnxFlow.StandardNormalNoise(Count, 2, 5), dtype: ScalarType.Float64).reshape(Count, 2);
        Tensor draw;
        if (baseDistribution is StudentT studentT)
        {
            var nu = studentT.DegreesOfFreedom.data<double>().ToArray();
            var chiSquare = torch.tensor(OnnxFlow.ChiSquareNoise(Count, nu, 5), dtype: ScalarType.Float64).reshape(Count, 2);
            draw = studentT.Loc.add(z.div(chiSquare.div(studentT.DegreesOfFreedom).sqrt()).mul(studentT.Scale));
            // Chi-square draws with nu degrees of freedom: mean nu, variance 2 nu (5 standard errors over 400 x 2 draws).
            var many = OnnxFlow.ChiSquareNoise(20_000, new[] { 0.7, 3.5, 12.0 }, 1);
            foreach (var (v, d) in new[] { (0.7, 0), (3.5, 1), (12.0, 2) })
            {
                var column = many.Where((_, i) => i % 3 == d).ToArray();
                double mean = column.Average(), variance = column.Select(c => (c - mean) * (c - mean)).Average();
                Assert.InRange(mean, v - 5 * Math.Sqrt(2 * v / column.Length), v + 5 * Math.Sqrt(2 * v / column.Length));
                Assert.InRange(variance, 2 * v * 0.9, 2 * v * 1.1);
            }
        }
        else
        {
            var mixture = (GaussianMixture)baseDistribution;
            var uniform = OnnxFlow.UniformNoise(Count, 5);
            var cumulative = mixture.Weights.to(ScalarType.Float64).cumsum(0).data<double>().ToArray();
            var component = uniform.Select(u => (long)cumulative.Take(2).Count(c => c <= u)).ToArray();
            var index = torch.tensor(component);
            draw = mixture.Means.index_select(0, index).add(z.mul(mixture.Scales.index_select(0, index)));
            Assert.All(uniform, u => Assert.InRange(u, 0.0, 1.0 - 1e-17));
            // The components are chosen by their weights (0.2, 0.5, 0.3; 5 standard errors over 400 draws).
            for (int k = 0; k < 3; k++)
            {
                double weight = new[] { 0.2, 0.5, 0.3 }[k], share = component.Count(c => c == k) / (double)Count;
                Assert.InRange(share, weight - 5 * Math.Sqrt(weight * (1 - weight) / Count), weight + 5 * Math.Sqrt(weight * (1 - weight) / Count));
            }
        }
        using var noGrad = torch.no_grad();
        var (x, logAbsDet) = flow.Bijector.Forward(draw);
        var expected = x.data<double>().ToArray();
        var actual = samples.Cast<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * (1 + Math.Abs(expected[i])), $"{baseName}: sample {i} is {actual[i]:R}, expected {expected[i]:R}");
        AssertClose(baseDistribution.LogProb(draw).sub(logAbsDet).data<double>().ToArray(), logProb, 1e-6, $"{baseName}: sample log-probs");
        Assert.Equal(samples.Cast<float>(), onnx.Sample(Count, seed: 5).Cast<float>());
    }

    [Fact]
    public void Should_Give_The_Same_Results_When_Called_From_Many_Threads()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Trained(Flows.Maf(3, 2, new[] { 16 }, seed: 2));
        using var onnx = OnnxFlow.Load(Export(flow));
        var rows = Rows(torch.randn(new long[] { 500, 3 }, generator: new Generator(9)));
        var expectedLogProb = onnx.LogProb(rows);
        var expectedSamples = Enumerable.Range(0, 8).Select(s => onnx.Sample(100, seed: s).Cast<float>().ToArray()).ToArray();
        var results = new bool[64];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            results[i] = i % 2 == 0
                ? onnx.LogProb(rows).SequenceEqual(expectedLogProb)
                : onnx.Sample(100, seed: i % 8).Cast<float>().SequenceEqual(expectedSamples[i % 8]);
        });
        Assert.All(results, Assert.True);
    }

    [Fact]
    public void Should_Match_The_Library_In_Double_Precision_When_The_Model_Is_Float64()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 4, new[] { 16 }, seed: 4);
        flow.to(ScalarType.Float64);
        Trained(flow);
        using var onnx = OnnxFlow.Load(Export(flow, new OnnxExportOptions { Float64 = true, Graphs = OnnxGraphs.LogProb }));
        Assert.True(onnx.IsFloat64);
        Assert.False(onnx.CanSample);
        var x = torch.randn(new long[] { 100, 2 }, dtype: ScalarType.Float64, generator: new Generator(1));
        var values = x.data<double>().ToArray();
        var rows = new double[100, 2];
        Buffer.BlockCopy(values, 0, rows, 0, values.Length * sizeof(double));
        var expected = flow.LogProb(x).data<double>().ToArray();
        var actual = onnx.LogProb(rows);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-10 * (1 + Math.Abs(expected[i])), $"row {i}: {actual[i]:R} vs {expected[i]:R}");
        var error = Assert.Throws<InvalidOperationException>(() => onnx.Sample(3, seed: 1));
        Assert.Contains("no sample graph", error.Message);
    }

    [Fact]
    public void Should_Take_The_Context_And_Check_Its_Shape_When_The_Flow_Is_Conditional()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(6);
        using var flow = Trained(new Flow(new StandardNormal(2), new Chain(
            Coupling.WithMlp(Masks.Halves(2), new[] { 8 }, contextFeatures: 3, generator: generator),
            Coupling.WithMlp(Masks.Halves(2, second: false), new[] { 8 }, contextFeatures: 3, generator: generator))));
        using var onnx = OnnxFlow.Load(Export(flow));
        Assert.Equal(3, onnx.ContextFeatures);
        var x = torch.randn(new long[] { 20, 2 }, generator: generator);
        var context = torch.randn(new long[] { 20, 3 }, generator: generator);
        AssertClose(flow.LogProb(x, context).to(ScalarType.Float64).data<double>().ToArray(), onnx.LogProb(Rows(x), Rows(context)), 1e-5, "conditional log-probs");
        Assert.Equal("context", Assert.Throws<ArgumentException>(() => onnx.LogProb(Rows(x))).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentException>(() => onnx.LogProb(Rows(x), new float[20, 2])).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentException>(() => onnx.Sample(5, seed: 1, context: new float[4, 3])).ParamName);
        Assert.Equal(new[] { 20, 2 }, new[] { onnx.Sample(20, 1, Rows(context)).GetLength(0), onnx.Sample(20, 1, Rows(context)).GetLength(1) });
    }

    [Fact]
    public void Should_Throw_Naming_The_Argument_When_Rows_Have_The_Wrong_Width()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(3, 2, new[] { 8 }, seed: 1);
        using var onnx = OnnxFlow.Load(Export(flow));
        var error = Assert.Throws<ArgumentException>(() => onnx.LogProb(new float[4, 2]));
        Assert.Equal("x", error.ParamName);
        Assert.Contains("[rows, 3]", error.Message);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => onnx.LogProb(new float[7].AsSpan())).ParamName);
    }

    [Fact]
    public void Should_Throw_A_Format_Error_When_The_Model_Was_Not_Exported_By_The_Library()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1);
        var model = global::Onnx.ModelProto.Parser.ParseFrom(flow.ToOnnx());
        model.MetadataProps.Clear();
        var error = Assert.Throws<FormatException>(() => OnnxFlow.Load(Google.Protobuf.MessageExtensions.ToByteArray(model)));
        Assert.Contains("event_shape", error.Message);
        Assert.Throws<FileNotFoundException>(() => OnnxFlow.Load(Path.Combine(folder, "missing.onnx")));
    }

    [Fact]
    public void Should_Not_Reference_TorchSharp_When_Built()
    {
        var references = typeof(OnnxFlow).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToArray();
        Assert.Contains("Microsoft.ML.OnnxRuntime", references);
        Assert.DoesNotContain(references, name => name!.StartsWith("TorchSharp", StringComparison.Ordinal) || name == "NormalizingFlows");
    }
}
