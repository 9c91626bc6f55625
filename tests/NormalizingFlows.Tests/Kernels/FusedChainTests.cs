using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Kernels;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>A whole chain evaluated block by block through its layers' row stages (<see cref="FusedChain"/>) against the same
/// layers applied one at a time on libtorch's operations: the same outputs and summed log-dets, both directions, over several
/// blocks on two threads.</summary>
public sealed class FusedChainTests
{
    /// <summary>Every kind of layer that has a stage: a wide coupling (tiled or BLAS), an LU layer with a permutation, a learnable
    /// leaky ReLU with per-feature slopes, a narrow tanh-bounded coupling, RealNVP's two networks side by side, and masked
    /// autoregressive layers (a wide soft-clamped one in a custom order, a narrow one: its density pass or its ranks).</summary>
    private static Chain MixedChain(Generator g) => new(
        new Coupling(Masks.Alternating(3, 0), new Mlp(1, 4, new[] { 64, 64 }, generator: g), AffineTransform.Instance),
        new LuLinear(3, new long[] { 2, 0, 1 }),
        new LearnableLeakyRelu(3, initialSlope: 0.4, perFeature: true),
        new Coupling(Masks.Alternating(3, 1), new Mlp(2, 2, new[] { 4 }, activation: Activation.Tanh, generator: g), new TanhBoundedAffineTransform(1, initialBound: 0.8)),
        new Coupling(Masks.Alternating(3, 0), new ParallelMlp(2, 1, 2, new[] { 40, 24 }, generator: g), AffineTransform.Instance),
        MaskedAutoregressive.WithMade(3, new[] { 48, 40 }, transform: new AffineTransform(ScaleMap.SoftClamp), order: new[] { 1, 2, 0 }, generator: g),
        MaskedAutoregressive.WithMade(3, new[] { 8 }, order: Made.ReversedOrder(3), generator: g));

    [Theory]
    [InlineData(false, 37)]
    [InlineData(true, 37)]
    [InlineData(false, 5 * FusedCoupling.BlockRows / 2 + 3)]
    [InlineData(true, 5 * FusedCoupling.BlockRows / 2 + 3)]
    public void Should_Match_The_Layers_One_At_A_Time_When_A_Chain_Is_Evaluated_Block_By_Block(bool inverse, int rows)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(17);
        using var chain = MixedChain(generator);
        chain.to(ScalarType.Float64);
        Perturb(chain, generator);
        chain.eval();
        var x = torch.randn(new long[] { rows, 3 }, dtype: ScalarType.Float64, generator: generator).mul(1.5);
        using var noGrad = torch.no_grad();
        var plan = FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float64, gradients: false));
        Assert.True(plan.BlockByBlock, "every layer of the mixed chain should have a row stage");
        int threads = torch.get_num_threads();
        torch.set_num_threads(2);
        (Tensor Output, Tensor LogAbsDet)? fused;
        try
        {
            fused = FusedChain.TryApply(plan, x, inverse);
        }
        finally
        {
            torch.set_num_threads(threads);
        }
        Assert.NotNull(fused);
        var (y, ld) = fused.Value;
        // The reference: the layers one at a time on libtorch's operations.
        Tensor expected = x, total = torch.zeros(rows, dtype: ScalarType.Float64);
        using (NormalizingFlows.Runtime.FusedKernels.Scoped(false))
        {
            foreach (var layer in inverse ? chain.Layers.Reverse() : chain.Layers.AsEnumerable())
            {
                var (next, logAbsDet) = inverse ? layer.Inverse(expected) : layer.Forward(expected);
                expected = next;
                total = total.add(logAbsDet);
            }
        }
        AssertClose(expected, y, "outputs");
        AssertClose(total, ld, "log-dets");
        var (publicY, publicLd) = inverse ? chain.Inverse(x) : chain.Forward(x);
        AssertClose(y, publicY, "Chain's own outputs");
        AssertClose(ld, publicLd, "Chain's own log-dets");
    }

    [Fact]
    public void Should_Leave_A_Chain_To_Its_Layers_With_Gradients_Or_A_Layer_Without_A_Stage()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3);
        using var chain = MixedChain(generator);
        var x = torch.randn(new long[] { 10, 3 }, generator: generator);
        Assert.Null(FusedChain.TryApply(FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float32, gradients: true)), x, inverse: false));

        using var spline = new Chain(chain.Layers[0], Coupling.WithMlp(Masks.Halves(3), new[] { 4 }, transform: new RationalQuadraticSpline(2, 3.0)));
        var splinePlan = FusionPlanner.Plan(spline, PlanKey.Cpu(ScalarType.Float32, gradients: false));
        Assert.False(splinePlan.BlockByBlock);
        using var noGrad = torch.no_grad();
        Assert.Null(FusedChain.TryApply(splinePlan, x, inverse: true));
        // The parameters are float32: no stage for float64 rows.
        Assert.Null(FusedChain.TryApply(FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float64, gradients: false)), x.to(ScalarType.Float64), inverse: true));
        Assert.False(FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float32, gradients: false, on: false)).BlockByBlock);
        Assert.NotNull(FusedChain.TryApply(FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float32, gradients: false)), x, inverse: true));
    }

    private static void Perturb(Bijector bijector, Generator generator)
    {
        using var noGrad = torch.no_grad();
        foreach (var p in bijector.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.1));
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.isfinite().all().ToBoolean(), $"{what}: the reference should be finite.");
        double scale = Math.Max(1.0, expected.abs().max().ToDouble());
        double difference = expected.sub(actual).abs().max().ToDouble();
        Assert.True(difference <= 1e-12 * scale, $"{what} differ by {difference:E2} (scale {scale:E2}).");
    }
}
