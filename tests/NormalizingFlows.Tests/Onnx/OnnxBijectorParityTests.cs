using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Distributions;
using NormalizingFlows.Onnx;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Onnx;

/// <summary>Every case of the bijector property registry, as the bijector of a flow on a standard-normal base, exported to ONNX and
/// scored by ONNX Runtime: log-probs (the inverse) and samples with their log-probs (the forward) equal the library's, in float64
/// within 1e-10 and in float32 within 1e-5 (relative to 1 + |value|); a case whose layers have no ONNX description throws
/// NotSupportedException naming the layer.</summary>
public sealed class OnnxBijectorParityTests
{
    private const long Batch = 9;

    /// <summary>The cases that have no ONNX description yet, and the layer each names.</summary>
    private static readonly Dictionary<string, string> NotExported = new(StringComparer.Ordinal)
    {
        ["planar"] = "Planar",
        ["planar-chain"] = "Planar",
        ["radial"] = "Radial",
        ["residual-block-exact"] = "ResidualBlock",
        ["residual-block-exact-lipswish"] = "ResidualBlock",
        ["residual-block-exact-tanh-inverted"] = "ResidualBlock",
        ["continuous-flow-exact"] = "ContinuousFlow",
        ["continuous-flow-context"] = "ContinuousFlow",
    };

    /// <summary>The registry's cases that keep their event shape (a reshaping bijector, a squeeze, is no flow on its own).</summary>
    public static IEnumerable<object[]> FlowCaseNames =>
        BijectorRegistry.Cases.Where(c => c.OutputShape is null).Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(FlowCaseNames))]
    public void Should_Match_The_Library_In_Float64_When_Exported(string name) => CheckParity(name, float64: true, tolerance: 1e-10);

    /// <summary>Known float32 gaps: cases that match in float64 but not within 1e-5 in float32, each with the float64 evidence that
    /// the difference is the two engines' float32 summation order, not a different computation. The splines' former gaps
    /// (coupling-circular-spline 4.4e-5, image-coupling-checkerboard-spline 1.45e-4) were a bin's width and height taken as the
    /// difference of two knots, which in float32 loses up to an ulp of the bound (1e-4 relative for a bin of the minimum size):
    /// both the library and the graph now take the slope from the bin's own sizes, and both cases are within 1e-6. The cases left
    /// are checked against float64 instead (each engine within 1e-5 of it).</summary>
    private static readonly Dictionary<string, string> Float32Gaps = new(StringComparer.Ordinal)
    {
        // Image couplings with a ConvNet (3x3 convolutions; ONNX Runtime's float32 Conv sums in another order than libtorch's).
        // Measured against the same flow evaluated in float64 on the same float32 parameters and inputs (relative to 1 + |value|):
        // the one value off by more than 1e-5 is sample[143], library 6.1e-6 from float64, ONNX Runtime 4.3e-6 (ONNX nearer).
        ["image-coupling-checkerboard-context"] = "float32 sample 1.0e-5 off in one value (convolution summation order; ONNX Runtime the nearer to float64)",
        // sample[268]: library 8.7e-6 from float64, ONNX Runtime 2.5e-6 (ONNX nearer); the difference between them 1.1e-5.
        // Row 0 lies 100x outside the data (log q = -6.5e31: a log-scale near 35 in every coupling, whose float32 rounding alone
        // moves exp(s) by 35 x 6e-8). Since conditional couplings run the fused kernel, the two engines' network sums differ in
        // order and their log_prob there differs by 1.75e-5 relative; each is within 1e-5 of float64 (the library 1.0e-5, ONNX
        // Runtime 7.5e-6), checked below.
        ["chain-context"] = "float32 log_prob 1.75e-5 off on the row 100x outside (log q = -6.5e31)",
        ["factor-out-squeezing-inner"] = "float32 sample 1.1e-5 off in one value (convolution summation order; ONNX Runtime the nearer to float64)",
    };

    /// <summary>The flow cases checked in float32: all but the known gaps.</summary>
    public static IEnumerable<object[]> Float32FlowCaseNames =>
        BijectorRegistry.Cases.Where(c => c.OutputShape is null && !Float32Gaps.ContainsKey(c.Name)).Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(Float32FlowCaseNames))]
    public void Should_Match_The_Library_In_Float32_When_Exported(string name) => CheckParity(name, float64: false, tolerance: 1e-5);

    public static IEnumerable<object[]> Float32GapNames => Float32Gaps.Keys.Select(k => new object[] { k });

    /// <summary>The known float32 gaps still hold the 1e-5 where it matters: both engines' float32 values are within 1e-5
    /// of the same flow evaluated in float64 (the same float32 parameters and inputs), so the 1e-5 between them is missed only by
    /// the sum of two float32 summation orders (convolutions, or a fused network's products).</summary>
    [Theory]
    [MemberData(nameof(Float32GapNames))]
    public void Should_Be_Within_1e5_Of_Float64_In_Float32_When_The_Engines_Sum_Convolutions_Differently(string name) =>
        CheckParity(name, float64: false, tolerance: 1e-5, againstFloat64: true);

    private static void CheckParity(string name, bool float64, double tolerance, bool againstFloat64 = false)
    {
        using var scope = torch.NewDisposeScope();
        var testCase = BijectorRegistry.Get(name);
        var bijector = BijectorRegistry.CreatePerturbed(testCase);
        var eventShape = testCase.EventShape ?? new long[] { testCase.Features };
        using var flow = new Flow(new StandardNormal(eventShape), bijector);
        var dtype = float64 ? ScalarType.Float64 : ScalarType.Float32;
        flow.to(dtype);
        flow.eval();
        if (NotExported.TryGetValue(name, out var layer))
        {
            var error = Assert.Throws<NotSupportedException>(() => flow.ToOnnx(new OnnxExportOptions { Float64 = float64 }));
            Assert.Contains(layer + " cannot be exported to ONNX", error.Message);
            return;
        }
        var model = flow.ToOnnx(new OnnxExportOptions { Float64 = float64 });
        using var runner = new OnnxRunner(model, float64);
        using var generator = new Generator(7);
        var draws = torch.randn(testCase.BatchShape(Batch), dtype: ScalarType.Float64, generator: generator).mul(1.5);
        var context = testCase.ContextFeatures == 0 ? null
            : torch.randn(new[] { Batch, (long)testCase.ContextFeatures }, dtype: ScalarType.Float64, generator: generator);
        // Data-side rows: valid ones, then far outside (beyond every tail bound, outside any bounded support).
        var data = testCase.DataInput(draws).clone();
        data[0] = data[0].mul(100.0);
        data[1] = data[1].mul(-1000.0);
        var z = testCase.BaseInput(draws.flip(0));
        var inputs = new Dictionary<string, Tensor> { ["x"] = data, ["z"] = z };
        if (context is not null)
        {
            inputs["context"] = context;
            inputs["sample_context"] = context;
        }
        var outputs = runner.Run(inputs, "log_prob", "sample", "sample_log_prob");
        if (againstFloat64)
        {
            // The library's float32 values, then the same flow in float64 on the float32-rounded inputs, as the reference for both.
            using var noGradient = torch.no_grad();
            var data32 = data.to(dtype);
            var z32 = z.to(dtype);
            var context32 = context?.to(dtype);
            var library = new List<Tensor> { flow.LogProb(data32, context32) };
            var (forward32, logAbsDet32) = flow.Bijector.Forward(z32, context32);
            library.Add(forward32);
            library.Add(flow.Base.LogProb(z32).sub(logAbsDet32));
            flow.to(ScalarType.Float64);
            var context64 = context32?.to(ScalarType.Float64);
            var reference = new List<Tensor> { flow.LogProb(data32.to(ScalarType.Float64), context64) };
            var (forward64, logAbsDet64) = flow.Bijector.Forward(z32.to(ScalarType.Float64), context64);
            reference.Add(forward64);
            reference.Add(flow.Base.LogProb(z32.to(ScalarType.Float64)).sub(logAbsDet64));
            string[] what = { "log_prob", "sample", "sample_log_prob" };
            for (int k = 0; k < 3; k++)
            {
                // Rounded to float32 (6e-8 relative), so that a value beyond float32's range is the infinity float32 gives.
                reference[k] = reference[k].to(ScalarType.Float32).to(ScalarType.Float64);
                OnnxRunner.AssertClose(reference[k], outputs[k], tolerance, $"{name}: ONNX Runtime's float32 {what[k]} against float64");
                OnnxRunner.AssertClose(reference[k], library[k], tolerance, $"{name}: the library's float32 {what[k]} against float64");
            }
            return;
        }
        var typedContext = context?.to(dtype);
        var expectedLogProb = flow.LogProb(data.to(dtype), typedContext);
        OnnxRunner.AssertClose(expectedLogProb, outputs[0], tolerance, $"{name}: log_prob");
        using var noGrad = torch.no_grad();
        var typedZ = z.to(dtype);
        var (x, logAbsDet) = flow.Bijector.Forward(typedZ, typedContext);
        OnnxRunner.AssertClose(x, outputs[1], tolerance, $"{name}: sample");
        var expectedSampleLogProb = flow.Base.LogProb(typedZ).sub(logAbsDet);
        OnnxRunner.AssertClose(expectedSampleLogProb, outputs[2], tolerance, $"{name}: sample_log_prob");
    }
}
