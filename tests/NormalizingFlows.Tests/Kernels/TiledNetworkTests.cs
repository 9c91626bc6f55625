using System;
using System.Runtime.Intrinsics;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Kernels;
using NormalizingFlows.Runtime;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>The tiled network kernel (512-bit register tiles) against the operation-by-operation coupling: widths that are not
/// whole vectors (padding), panels of four vectors and single vectors, the dot-product output layer and the general one,
/// ReLU and leaky ReLU, a row count that is not a whole number of tiles, in float32 and float64.</summary>
public sealed class TiledNetworkTests
{
    [Theory]
    [InlineData(new[] { 64, 64 }, 2, Activation.Relu)]        // seed000's network: one panel of four, dot-product output
    [InlineData(new[] { 40, 70 }, 8, Activation.Relu)]        // padded widths, panels of four and of one, general output layer
    [InlineData(new[] { 33 }, 4, Activation.LeakyRelu)]       // one hidden layer, leaky ReLU, four outputs (dot products)
    [InlineData(new[] { 130, 17, 64 }, 6, Activation.Relu)]   // three hidden layers, wider than one panel
    [InlineData(new[] { 70, 3 }, 2, Activation.Relu)]          // a narrow hidden layer read by a narrow output layer (zero padding)
    public void Should_Match_The_Operation_Path_When_A_Wide_Network_Runs_In_Tiles(int[] hidden, int features, Activation activation)
    {
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            using var scope = torch.NewDisposeScope();
            using var generator = new Generator(23);
            using var coupling = Coupling.WithMlp(Masks.Alternating(features, 1), hidden, activation: activation, generator: generator);
            coupling.to(dtype);
            using (torch.no_grad())
                foreach (var p in coupling.parameters()) p.add_(torch.randn(p.shape, dtype: dtype, generator: generator).mul(0.2));
            coupling.eval();
            var plan = FusionPlanner.Plan(coupling, PlanKey.Cpu(dtype, gradients: false)).Layers[0];
            Assert.Equal(Vector512.IsHardwareAccelerated, plan.Tiles);
            var x = torch.randn(new long[] { 6 * 51 + 5, features }, dtype: dtype, generator: generator);
            using var noGrad = torch.no_grad();
            foreach (bool inverse in new[] { false, true })
            {
                var (y, ld) = inverse ? coupling.Inverse(x) : coupling.Forward(x);
                var (yRef, ldRef) = coupling.ApplyByOperations(x, null, inverse);
                double tolerance = dtype == ScalarType.Float64 ? 1e-12 : 2e-5;
                AssertClose(yRef, y, tolerance, $"{dtype} outputs ({(inverse ? "inverse" : "forward")})");
                AssertClose(ldRef, ld, tolerance, $"{dtype} log-dets ({(inverse ? "inverse" : "forward")})");
            }
        }
    }

    [Fact]
    public void Should_Leave_Tanh_And_Narrow_Networks_To_The_Other_Kernels()
    {
        using var tanh = Coupling.WithMlp(Masks.Halves(2), new[] { 64, 64 }, activation: Activation.Tanh);
        using var narrow = Coupling.WithMlp(Masks.Halves(4), new[] { 8, 8 });
        Assert.False(FusionPlanner.Plan(tanh, PlanKey.Cpu(ScalarType.Float32, gradients: false)).Layers[0].Tiles);
        Assert.False(FusionPlanner.Plan(narrow, PlanKey.Cpu(ScalarType.Float32, gradients: false)).Layers[0].Tiles);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.True(expected.isfinite().all().ToBoolean(), $"{what}: the reference should be finite.");
        double scale = Math.Max(1.0, expected.abs().max().ToDouble());
        double difference = expected.sub(actual).abs().max().ToDouble();
        Assert.True(difference <= tolerance * scale, $"{what} differ by {difference:E2} (scale {scale:E2}).");
    }

    /// <summary>Evaluation reads the tiles' input straight from the rows (no column-major copy) from 16 network inputs: masked
    /// autoregressive layers (every column in, one copy per row; one with a context, sampled rank by rank with each block's
    /// context rows) and couplings with consecutive and interleaved input columns, every log-scale map, both directions,
    /// float32 and float64, against libtorch's operations. The masked autoregressive layers' density passes also map their rows
    /// on the tiles (whole vectors of features, then a scalar tail where the width is not a multiple of the vector).</summary>
    public static TheoryData<string, ScalarType> RowInputCases()
    {
        var data = new TheoryData<string, ScalarType>();
        foreach (var name in new[] { "made-raw", "made-soft-clamp", "made-learned", "made-context", "halves", "alternating-learned" })
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
                data.Add(name, dtype);
        return data;
    }

    private static Bijector CreateWide(string name, Generator g) => name switch
    {
        "made-raw" => MaskedAutoregressive.WithMade(16, new[] { 64, 64 }, generator: g),
        "made-soft-clamp" => MaskedAutoregressive.WithMade(20, new[] { 48, 40 }, transform: new AffineTransform(ScaleMap.SoftClamp), order: Made.ReversedOrder(20), generator: g),
        "made-learned" => MaskedAutoregressive.WithMade(17, new[] { 32, 32 }, transform: new TanhBoundedAffineTransform(17, 1.5), generator: g),
        "made-context" => MaskedAutoregressive.WithMade(10, new[] { 48, 48 }, contextFeatures: 8, transform: new AffineTransform(ScaleMap.SoftClamp), generator: g),
        "halves" => Coupling.WithMlp(Masks.Halves(34), new[] { 64, 64 }, generator: g),
        "alternating-learned" => Coupling.WithMlp(Masks.Alternating(35, 1), new[] { 40, 40 }, transform: new TanhBoundedAffineTransform(17, 0.7), generator: g),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(RowInputCases))]
    public void Should_Read_Input_Tiles_From_The_Rows_As_The_Operations_Do(string name, ScalarType dtype)
    {
        // The kernels on for this test, so that it holds in a run with NFLOWS_FUSED=0 too.
        using var kernels = FusedKernels.Scoped(true);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(23);
        using var layer = CreateWide(name, generator);
        layer.to(dtype);
        using (torch.no_grad())
            foreach (var p in layer.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.1));
        layer.eval();
        var x = torch.randn(new long[] { 1500, layer.EventShape[0] }, dtype: dtype, generator: generator);
        var context = layer.ContextFeatures == 0 ? null : torch.randn(new long[] { 1500, layer.ContextFeatures }, dtype: dtype, generator: generator);
        double tolerance = dtype == ScalarType.Float32 ? 2e-5 : 1e-12;
        using var noGrad = torch.no_grad();
        foreach (bool inverse in new[] { false, true })
        {
            var (y, ld) = inverse ? layer.Inverse(x, context) : layer.Forward(x, context);
            Tensor expectedY, expectedLd;
            using (FusedKernels.Scoped(false)) (expectedY, expectedLd) = inverse ? layer.Inverse(x, context) : layer.Forward(x, context);
            AssertRelativelyClose(expectedY, y, tolerance, $"{name} {dtype} {(inverse ? "inverse" : "forward")} outputs");
            AssertRelativelyClose(expectedLd, ld, tolerance, $"{name} {dtype} {(inverse ? "inverse" : "forward")} log-dets");
        }
    }

    private static void AssertRelativelyClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var scale = expected.abs().add(1.0);
        double worst = actual.sub(expected).abs().div(scale).max().ToDouble();
        Assert.True(worst <= tolerance, $"{what} differ by {worst:E2} relative to 1 + |value|.");
    }
}
