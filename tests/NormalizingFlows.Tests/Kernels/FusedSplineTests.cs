using System;
using System.Linq;
using NormalizingFlows.Kernels;
using NormalizingFlows.Runtime;
using NormalizingFlows.Tests.Shared;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>
/// The fused rational-quadratic spline (<see cref="FusedSpline"/>) against the operation-by-operation spline
/// (<see cref="NormalizingFlows.Internal.RationalQuadratic"/>) at the transform itself: values, log-dets and the gradients of both with respect to
/// the input and every raw parameter, in both directions, with inputs inside, on and beyond the bounds; float32 against float64;
/// a call shared out among threads against the same elements one slice at a time; strided and non-finite inputs; and which
/// calls the planner sends to the kernel.
/// </summary>
public sealed class FusedSplineTests
{
    private const double Tolerance = 1e-12;

    /// <summary>Inputs in and out of <c>[-3, 3]</c>: random ones, the bounds exactly, just inside and beyond them, far out.</summary>
    private static Tensor Inputs(int random, Generator generator, ScalarType dtype = ScalarType.Float64)
    {
        var edges = torch.tensor(new[] { -3.0, 3.0, -3.0 + 1e-12, 3.0 - 1e-12, -3.0 - 1e-12, 3.0 + 1e-12, 0.0, -40.0, 1e6 }, dtype: ScalarType.Float64);
        return torch.cat(new[] { torch.randn(random, dtype: ScalarType.Float64, generator: generator).mul(2.0), edges }).to(dtype);
    }

    private static Tensor[] Evaluate(RationalQuadraticSpline spline, Tensor x, Tensor parameters, bool inverse, bool on)
    {
        using var kernels = FusedKernels.Scoped(on);
        var input = x.detach().requires_grad_(true);
        var raw = parameters.detach().requires_grad_(true);
        var (output, logAbsDet) = inverse ? spline.Inverse(input, raw) : spline.Forward(input, raw);
        using var weights = torch.linspace(-1.0, 2.0, output.numel(), dtype: output.dtype).reshape(output.shape);
        output.mul(weights).sum().add(logAbsDet.mul(0.7).sum()).backward();
        return new[] { output.detach(), logAbsDet.detach(), input.grad!.clone(), raw.grad!.clone() };
    }

    [Theory]
    [InlineData(false, 8)]
    [InlineData(true, 8)]
    [InlineData(false, 2)]
    [InlineData(true, 2)]
    [InlineData(true, 5)]
    public void Should_Match_The_Operation_By_Operation_Spline_In_Values_And_Gradients(bool inverse, int bins)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(17);
        var spline = new RationalQuadraticSpline(bins, 3.0);
        var x = Inputs(3000, generator);
        var parameters = torch.randn(new[] { x.size(0), (long)spline.ParametersPerFeature }, dtype: ScalarType.Float64, generator: generator);
        var fused = Evaluate(spline, x, parameters, inverse, on: true);
        var reference = Evaluate(spline, x, parameters, inverse, on: false);
        string[] names = { "output", "log-det", "input gradient", "parameter gradient" };
        for (int i = 0; i < names.Length; i++)
        {
            double scale = Math.Max(1.0, reference[i].abs().max().ToDouble());
            double difference = fused[i].sub(reference[i]).abs().max().ToDouble();
            Assert.True(difference <= Tolerance * scale, $"{names[i]} ({(inverse ? "inverse" : "forward")}, {bins} bins) differ by {difference:E2} (scale {scale:E2}).");
        }
        // Beyond the bounds: the identity, log-det 0, the output's gradient passed through, none to the parameters.
        var outside = x.abs().gt(3.0);
        Assert.True(fused[0].masked_select(outside).eq(x.masked_select(outside)).all().ToBoolean());
        Assert.Equal(0.0, fused[1].masked_select(outside).abs().max().ToDouble());
        Assert.Equal(0.0, fused[3].masked_select(outside.unsqueeze(-1).expand(parameters.shape)).abs().max().ToDouble());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_Compute_Float32_Within_Float32_Rounding_Of_Float64(bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(23);
        var spline = new RationalQuadraticSpline(8, 3.0);
        var x = Inputs(5000, generator, ScalarType.Float32);
        var parameters = torch.randn(new[] { x.size(0), (long)spline.ParametersPerFeature }, generator: generator);
        var single = Evaluate(spline, x, parameters, inverse, on: true);
        var exact = Evaluate(spline, x.to(ScalarType.Float64), parameters.to(ScalarType.Float64), inverse, on: false);
        Assert.All(single, t => Assert.Equal(ScalarType.Float32, t.dtype));
        // The kernel computes each element in double precision: only the inputs' and outputs' rounding to float32 remains.
        for (int i = 0; i < 2; i++)
        {
            double difference = single[i].to(ScalarType.Float64).sub(exact[i]).abs().max().ToDouble();
            Assert.True(difference < 2e-5, $"{(i == 0 ? "output" : "log-det")} {difference:E2} from float64.");
        }
    }

    [Fact]
    public void Should_Give_The_Same_Bits_Shared_Among_Threads_As_Slice_By_Slice()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        var spline = new RationalQuadraticSpline(6, 3.0);
        var x = torch.randn(new long[] { 100_000 }, dtype: ScalarType.Float64, generator: generator).mul(2.0);
        var parameters = torch.randn(new[] { x.size(0), (long)spline.ParametersPerFeature }, dtype: ScalarType.Float64, generator: generator);
        using var noGrad = torch.no_grad();
        using var kernels = FusedKernels.Scoped(true);
        using var threads = TestThreads.Use(2);
        foreach (bool inverse in new[] { false, true })
        {
            var (whole, wholeLogDet) = inverse ? spline.Inverse(x, parameters) : spline.Forward(x, parameters);
            var pieces = Enumerable.Range(0, 20).Select(i => inverse
                ? spline.Inverse(x.narrow(0, i * 5000, 5000), parameters.narrow(0, i * 5000, 5000))
                : spline.Forward(x.narrow(0, i * 5000, 5000), parameters.narrow(0, i * 5000, 5000))).ToArray();
            Assert.True(whole.eq(torch.cat(pieces.Select(p => p.Output).ToArray())).all().ToBoolean());
            Assert.True(wholeLogDet.eq(torch.cat(pieces.Select(p => p.LogAbsDet).ToArray())).all().ToBoolean());
        }
    }

    [Fact]
    public void Should_Take_Strided_Inputs_And_Parameters()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(9);
        var spline = new RationalQuadraticSpline(4, 3.0);
        // [features, rows] transposed to [rows, features], parameters [rows, features, P] from a permuted layout.
        var x = torch.randn(new long[] { 3, 50 }, dtype: ScalarType.Float64, generator: generator).t();
        var parameters = torch.randn(new long[] { spline.ParametersPerFeature, 50, 3 }, dtype: ScalarType.Float64, generator: generator).permute(1, 2, 0);
        using var noGrad = torch.no_grad();
        foreach (bool inverse in new[] { false, true })
        {
            Tensor[] Run(bool on)
            {
                using var kernels = FusedKernels.Scoped(on);
                var (y, ld) = inverse ? spline.Inverse(x, parameters) : spline.Forward(x, parameters);
                return new[] { y, ld };
            }
            var fused = Run(true);
            var reference = Run(false);
            Assert.Equal(new long[] { 50, 3 }, fused[0].shape);
            Assert.True(fused[0].allclose(reference[0], rtol: 0, atol: 1e-12) && fused[1].allclose(reference[1], rtol: 0, atol: 1e-12));
        }
    }

    [Fact]
    public void Should_Give_NaN_For_A_NaN_Input_Like_The_Operations()
    {
        using var scope = torch.NewDisposeScope();
        var spline = new RationalQuadraticSpline(4, 3.0);
        var x = torch.tensor(new[] { double.NaN, 0.5, double.PositiveInfinity, double.NegativeInfinity });
        var parameters = torch.zeros(4, spline.ParametersPerFeature, dtype: ScalarType.Float64);
        using var noGrad = torch.no_grad();
        foreach (bool on in new[] { true, false })
        {
            using var kernels = FusedKernels.Scoped(on);
            var (y, ld) = spline.Forward(x, parameters);
            Assert.True(double.IsNaN(y[0].ToDouble()) && double.IsNaN(ld[0].ToDouble()), $"kernels {(on ? "on" : "off")}");
            Assert.Equal(0.5, y[1].ToDouble(), 12); // all-zero parameters: the identity
            Assert.Equal(double.PositiveInfinity, y[2].ToDouble());
            Assert.Equal(0.0, ld[2].ToDouble());
            Assert.Equal(double.NegativeInfinity, y[3].ToDouble());
        }
    }

    [Fact]
    public void Should_Send_Only_Cpu_Float_Tensors_Of_One_Dtype_That_Fit_A_Span_To_The_Kernel()
    {
        using var scope = torch.NewDisposeScope();
        var x32 = torch.zeros(3);
        var p32 = torch.zeros(3, 11);
        var x64 = torch.zeros(3, dtype: ScalarType.Float64);
        var p64 = torch.zeros(3, 11, dtype: ScalarType.Float64);
        using (FusedKernels.Scoped(true))
        {
            Assert.True(FusionPlanner.SplineRunsFused(x32, p32, 4));
            Assert.True(FusionPlanner.SplineRunsFused(x64, p64, 4));
            Assert.False(FusionPlanner.SplineRunsFused(x32, p64, 4));
            Assert.False(FusionPlanner.SplineRunsFused(x32.to(ScalarType.Float16), p32.to(ScalarType.Float16), 4));
            // The state the backward pass keeps (21 + 2K doubles per element) must fit a span too (expanded: no memory).
            Assert.True(FusionPlanner.SplineRunsFused(torch.zeros(1).expand(50_000_000), torch.zeros(1, 11).expand(50_000_000, 11), 4));
            Assert.False(FusionPlanner.SplineRunsFused(torch.zeros(1).expand(100_000_000), torch.zeros(1, 11).expand(100_000_000, 11), 4));
        }
        using (FusedKernels.Scoped(false)) Assert.False(FusionPlanner.SplineRunsFused(x32, p32, 4));
    }
}
