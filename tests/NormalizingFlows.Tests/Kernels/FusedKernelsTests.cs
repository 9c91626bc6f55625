using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>The fused CPU kernels against the operation-by-operation path they replace: the same outputs, log-dets and gradients
/// (input and every parameter) in float64, both directions, with and without gradients, on trained-looking (non-zero) weights.</summary>
public sealed class FusedKernelsTests
{
    private static readonly Dictionary<string, Func<Generator, Coupling>> Couplings = new()
    {
        ["affine-relu-halves"] = g => new Coupling(Masks.Halves(4), new Mlp(2, 4, new[] { 8, 8 }, generator: g), AffineTransform.Instance),
        ["affine-tanh-alternating"] = g => new Coupling(Masks.Alternating(5, 0), new Mlp(2, 6, new[] { 6 }, activation: Activation.Tanh, generator: g), AffineTransform.Instance),
        ["soft-clamp-leaky-relu"] = g => new Coupling(Masks.Alternating(3, 1), new Mlp(2, 2, new[] { 5, 3 }, activation: Activation.LeakyRelu, generator: g),
            new AffineTransform(ScaleMap.SoftClamp, bound: 1.5)),
        ["tanh-bounded-tutorial"] = g => new Coupling(Masks.Alternating(2, 0), new Mlp(1, 2, new[] { 4 }, activation: Activation.Tanh, generator: g),
            new TanhBoundedAffineTransform(1, initialBound: 0.7)),
        ["tanh-bounded-no-hidden"] = g => new Coupling(Masks.Halves(4, second: false), new Mlp(2, 4, Array.Empty<int>(), generator: g), new TanhBoundedAffineTransform(2)),
        ["widest-fused"] = g => new Coupling(Masks.Halves(6), new Mlp(3, 6, new[] { Runtime.FusedKernels.MaximumWidth }, generator: g), AffineTransform.Instance),
    };

    public static IEnumerable<object[]> CouplingCases => Couplings.Keys.SelectMany(name => new[] { new object[] { name, false }, new object[] { name, true } });

    [Theory]
    [MemberData(nameof(CouplingCases))]
    public void Should_Match_The_Operation_Path_In_Values_And_Gradients_When_A_Coupling_Is_Fused(string name, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11);
        using var coupling = Couplings[name](generator);
        Assert.True(coupling.IsFusable, $"{name} should take the fused kernel.");
        coupling.to(ScalarType.Float64);
        Perturb(coupling, generator);
        long features = coupling.EventShape[0];
        var x = torch.randn(new long[] { 37, features }, dtype: ScalarType.Float64, generator: generator).mul(1.5);

        var fused = Differentiate(coupling, x, input => inverse ? coupling.Inverse(input) : coupling.Forward(input));
        var reference = Differentiate(coupling, x, input => coupling.ApplyByOperations(input, null, inverse));
        AssertClose(reference, fused, name);

        using (torch.no_grad())
        {
            var (y, ld) = inverse ? coupling.Inverse(x) : coupling.Forward(x);
            var (yRef, ldRef) = coupling.ApplyByOperations(x, null, inverse);
            AssertClose(new[] { yRef, ldRef }, new[] { y, ld }, name + " without gradients");
        }
    }

    [Fact]
    public void Should_Leave_Wide_Or_Contextual_Networks_To_The_Operation_Path()
    {
        using var wide = new Coupling(Masks.Halves(4), new Mlp(2, 4, new[] { Runtime.FusedKernels.MaximumWidth + 1 }), AffineTransform.Instance);
        using var contextual = new Coupling(Masks.Halves(4), new Mlp(2, 4, new[] { 4 }, contextFeatures: 2), AffineTransform.Instance);
        using var spline = Coupling.WithMlp(Masks.Halves(4), new[] { 4 }, transform: new RationalQuadraticSpline(4, 3.0));
        Assert.False(wide.IsFusable);
        Assert.False(contextual.IsFusable);
        Assert.False(spline.IsFusable);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Should_Match_The_Elementwise_Path_When_A_Learnable_Leaky_Relu_Is_Fused(bool perFeature, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        using var layer = new LearnableLeakyRelu(new long[] { 2, 3 }, initialSlope: 0.4, perFeature: perFeature);
        layer.to(ScalarType.Float64);
        Perturb(layer, generator);
        var x = torch.randn(new long[] { 29, 2, 3 }, dtype: ScalarType.Float64, generator: generator);
        x[0, 0, 0] = torch.tensor(0.0, dtype: ScalarType.Float64); // the kink takes the slope in both paths

        var fused = Differentiate(layer, x, input => inverse ? layer.Inverse(input) : layer.Forward(input));
        var reference = Differentiate(layer, x, input => layer.ByOperations(input, inverse));
        AssertClose(reference, fused, $"leaky ReLU perFeature={perFeature} inverse={inverse}");
    }

    [Fact]
    public void Should_Give_Finite_Gradients_When_Only_The_Log_Det_Is_Used()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(2);
        using var coupling = Couplings["tanh-bounded-tutorial"](generator);
        Perturb(coupling, generator);
        var x = torch.randn(new long[] { 16, 2 }, generator: generator).requires_grad_(true);
        var (_, logAbsDet) = coupling.Forward(x);
        logAbsDet.sum().backward();
        Assert.True(x.grad is not null && x.grad.isfinite().all().item<bool>());
        Assert.All(coupling.parameters(), p => Assert.True(p.grad is not null && p.grad.isfinite().all().item<bool>()));
    }

    /// <summary>Outputs, log-dets, and the gradients of a weighted sum of both with respect to the input and every parameter.</summary>
    private static Tensor[] Differentiate(Bijector bijector, Tensor x, Func<Tensor, (Tensor Output, Tensor LogAbsDet)> apply)
    {
        foreach (var p in bijector.parameters()) p.grad = null;
        var input = x.detach().clone().requires_grad_(true);
        var (y, ld) = apply(input);
        using var weights = torch.linspace(-1, 1, y.numel(), dtype: y.dtype).reshape(y.shape);
        y.mul(weights).sum().add(ld.mul(0.7).sum()).backward();
        var results = new List<Tensor> { y.detach(), ld.detach(), input.grad!.clone() };
        results.AddRange(bijector.parameters().Select(p => p.grad!.clone()));
        return results.ToArray();
    }

    private static void Perturb(Bijector bijector, Generator generator)
    {
        using var noGrad = torch.no_grad();
        foreach (var p in bijector.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.4));
    }

    private static void AssertClose(IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].shape, actual[i].shape);
            double scale = Math.Max(1.0, expected[i].abs().max().item<double>());
            double difference = expected[i].sub(actual[i]).abs().max().item<double>();
            Assert.True(difference <= 1e-12 * scale, $"{what}: tensor {i} differs by {difference:E2} (scale {scale:E2}).");
        }
    }
}
