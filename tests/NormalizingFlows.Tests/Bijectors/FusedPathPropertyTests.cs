using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Data;
using NormalizingFlows.Runtime;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>
/// The fused CPU kernels held to the operation-by-operation path, which is their reference: every registered bijector and the
/// catalogue's flows (standardised too), run once with the kernels on and once with them off (for this test only,
/// <see cref="FusedKernels.Scoped"/>), give the same outputs, log-dets, log-probs, samples and gradients (input and every
/// parameter) in float64 to 1e-12 relative (plus, per element, a multiple of the reference's own response to its input moved by
/// a few ulps, which matters only where a map is ill-conditioned). The test forces the kernels on, so it holds in a run with <c>NFLOWS_FUSED=0</c> too.
/// </summary>
public sealed class FusedPathPropertyTests
{
    private const double Tolerance = 1e-12;

    /// <summary>Flows whose layers the kernels cover, in whole or in part (glow and nsf-coupling: some layers; maf and iaf: the
    /// density direction of their autoregressive layers; nsf-autoregressive: none, the control).</summary>
    public static IEnumerable<object[]> Presets => new[] { "lu-coupling", "real-nvp", "leaky-coupling", "glow", "nsf-coupling", "maf", "iaf", "nsf-autoregressive" }
        .SelectMany(name => new[] { new object[] { name, false }, new object[] { name, true } });

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Give_The_Same_Values_And_Gradients_With_The_Fused_Kernels_On_And_Off(string name)
    {
        using var scope = torch.NewDisposeScope();
        var testCase = BijectorRegistry.Get(name);
        using var bijector = BijectorRegistry.CreatePerturbed(testCase, seed: 3);
        using var generator = new Generator(31);
        var x = testCase.BaseInput(torch.randn(testCase.BatchShape(2500), dtype: ScalarType.Float64, generator: generator).mul(1.5));
        var context = testCase.ContextFeatures == 0 ? null
            : torch.randn(new long[] { 2500, testCase.ContextFeatures }, dtype: ScalarType.Float64, generator: generator);
        var directions = testCase.HasInverse ? new[] { false, true } : new[] { false };
        foreach (bool inverse in directions)
        {
            var input = inverse ? Run(bijector, x, context, inverse: false, on: false, gradients: false)[0] : x;
            var nudges = new[] { Nudge(input, generator), Nudge(input, generator) };
            foreach (bool gradients in new[] { false, true })
            {
                var fused = Run(bijector, input, context, inverse, on: true, gradients);
                var reference = Run(bijector, input, context, inverse, on: false, gradients);
                var spreads = nudges.Select(nudged => Run(bijector, nudged, context, inverse, on: false, gradients)).ToArray();
                AssertAllClose(reference, fused, spreads, $"{name} {(inverse ? "inverse" : "forward")} {(gradients ? "gradients" : "without gradients")}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Should_Give_The_Same_LogProbs_Samples_And_Gradients_With_The_Fused_Kernels_On_And_Off(string preset, bool standardized)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(41);
        var flow = FlowCatalog.Get(preset).Create(new PresetOptions(3, Layers: 4, Seed: 5));
        var data = torch.randn(new long[] { 3000, 3 }, generator: generator);
        if (standardized) flow = flow.Standardized(data.add(1.5));
        using var _ = flow;
        flow.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.05));
        flow.eval();
        var x = data.to(ScalarType.Float64);

        Tensor LogProb(bool on)
        {
            using var fused = FusedKernels.Scoped(on);
            using var noGrad = torch.no_grad();
            return flow.LogProb(x);
        }
        AssertClose(LogProb(false), LogProb(true), $"{preset} log-probs");

        Tensor[] Sample(bool on)
        {
            using var fused = FusedKernels.Scoped(on);
            using var noGrad = torch.no_grad();
            using var g = new Generator(7);
            var (samples, logProb) = flow.SampleWithLogProb(2000, generator: g);
            return new[] { samples, logProb };
        }
        AssertAllClose(Sample(false), Sample(true), $"{preset} samples");

        Tensor[] Gradients(bool on)
        {
            using var fused = FusedKernels.Scoped(on);
            var parameters = flow.parameters().Where(p => p.requires_grad).ToArray();
            foreach (var p in parameters) p.grad?.zero_();
            flow.LogProb(x.narrow(0, 0, 700)).mean().backward();
            return parameters.Select(p => p.grad!.clone()).ToArray();
        }
        AssertAllClose(Gradients(false), Gradients(true), $"{preset} parameter gradients");
    }

    /// <summary>Output, log-det and, with gradients, the gradients of a fixed weighting of both with respect to the input, the
    /// context (where there is one) and every parameter.</summary>
    private static Tensor[] Run(Bijector bijector, Tensor x, Tensor? context, bool inverse, bool on, bool gradients)
    {
        using var fused = FusedKernels.Scoped(on);
        if (!gradients)
        {
            using var noGrad = torch.no_grad();
            var (y, ld) = inverse ? bijector.Inverse(x, context) : bijector.Forward(x, context);
            return new[] { y, ld };
        }
        var input = x.detach().requires_grad_(true);
        var condition = context?.detach().requires_grad_(true);
        var parameters = bijector.parameters().Where(p => p.requires_grad).ToArray();
        foreach (var p in parameters) p.grad?.zero_();
        var (output, logAbsDet) = inverse ? bijector.Inverse(input, condition) : bijector.Forward(input, condition);
        using var weights = torch.linspace(-1.0, 1.0, output.numel(), dtype: output.dtype).reshape(output.shape);
        output.mul(weights).sum().add(logAbsDet.sum()).backward();
        var contextGradient = condition is null ? Array.Empty<Tensor>() : new[] { condition.grad is null ? torch.zeros_like(condition) : condition.grad.clone() };
        return new[] { output.detach(), logAbsDet.detach(), input.grad!.clone() }.Concat(contextGradient)
            .Concat(parameters.Select(p => p.grad is null ? torch.zeros_like(p) : p.grad.clone())).ToArray();
    }

    /// <summary>Each element of the input moved by <see cref="NudgeStep"/> relative, up or down at random (all in one direction can
    /// move a coupling's conditioner so that it cancels the move of the output; the test takes the larger response of two such
    /// nudges): the reference's response measures how much a
    /// rounding of the size that any two implementations make can move each output (the conditioning), see
    /// <see cref="AssertAllClose(Tensor[], Tensor[], Tensor[][], string)"/>.</summary>
    private static Tensor Nudge(Tensor x, Generator generator)
    {
        var signs = torch.randint(0, 2, x.shape, dtype: x.dtype, generator: generator).mul(2.0).sub(1.0);
        return x.add(x.abs().add(1.0).mul(signs).mul(NudgeStep));
    }

    /// <summary>A few ulps of float64 (2^-52 = 2.2e-16).</summary>
    private const double NudgeStep = 1e-15;

    /// <summary>The conditioning allowance: how many times the reference's response to the nudge a difference may be, on top of
    /// <see cref="Tolerance"/>.</summary>
    private const double NudgeAllowance = 64;

    /// <summary>
    /// <paramref name="actual"/> against <paramref name="expected"/> element by element, to <see cref="Tolerance"/> relative plus
    /// <see cref="NudgeAllowance"/> times the larger <c>|nudged - expected|</c>, the reference's own response to its input moved by a few ulps.
    /// Where a map is well conditioned that response is about 1e-15 and the bound stays 1e-12; where it is not (the inverse of a
    /// rational-quadratic spline in a flat bin next to a steep knot has dx/dy of thousands), no two implementations that round
    /// differently can agree to 1e-12: the knots of the fused spline and of libtorch's operations differ in their last bit, and
    /// such a map multiplies that by thousands.
    /// </summary>
    private static void AssertAllClose(Tensor[] expected, Tensor[] actual, Tensor[][] nudged, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].shape, actual[i].shape);
            Assert.True(expected[i].isfinite().all().ToBoolean(), $"{what} [{i}]: the reference should be finite.");
            double scale = Math.Max(1.0, expected[i].abs().max().ToDouble());
            var response = nudged.Select(n => n[i].sub(expected[i]).abs()).Aggregate(torch.maximum);
            var allowed = response.mul(NudgeAllowance).add(Tolerance * scale);
            var excess = actual[i].sub(expected[i]).abs().sub(allowed);
            long worst = excess.flatten().argmax().ToInt64();
            Assert.True(excess.max().ToDouble() <= 0,
                $"{what} [{i}] differ by {actual[i].flatten()[worst].sub(expected[i].flatten()[worst]).abs().ToDouble():E2} at element {worst}, "
                + $"allowed {allowed.flatten()[worst].ToDouble():E2} (scale {scale:E2}).");
        }
    }

    private static void AssertAllClose(Tensor[] expected, Tensor[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) AssertClose(expected[i], actual[i], $"{what} [{i}]");
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.isfinite().all().ToBoolean(), $"{what}: the reference should be finite.");
        double scale = Math.Max(1.0, expected.abs().max().ToDouble());
        double difference = expected.sub(actual).abs().max().ToDouble();
        Assert.True(difference <= Tolerance * scale, $"{what} differ by {difference:E2} (scale {scale:E2}).");
    }
}
