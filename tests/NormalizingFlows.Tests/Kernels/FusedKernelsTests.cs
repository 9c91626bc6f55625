using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using NormalizingFlows.Tests.Shared;
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
        ["blas-relu-wide"] = g => new Coupling(Masks.Halves(2), new Mlp(1, 2, new[] { 64, 64 }, generator: g), AffineTransform.Instance),
        ["blas-tanh-mixed"] = g => new Coupling(Masks.Alternating(5, 1), new Mlp(3, 4, new[] { 24, 9, 3 }, activation: Activation.Tanh, generator: g),
            new AffineTransform(ScaleMap.SoftClamp, bound: 2.0)),
        ["blas-parallel-real-nvp"] = g => new Coupling(Masks.Alternating(2, 1), new ParallelMlp(2, 1, 1, new[] { 64, 64 }, generator: g), AffineTransform.Instance),
        ["blas-parallel-narrow"] = g => new Coupling(Masks.Alternating(5, 0), new ParallelMlp(2, 2, 3, new[] { 6, 9 }, activation: Activation.LeakyRelu, generator: g),
            new AffineTransform(ScaleMap.SoftClamp, bound: 2.5)),
        // Tiled training's weight gradients take six units of a layer's input at a time: fewer than six (5), and a width whose
        // last six overlap the group before (13).
        ["blas-parallel-uneven"] = g => new Coupling(Masks.Alternating(4, 1), new ParallelMlp(2, 2, 2, new[] { 5, 13 }, generator: g), AffineTransform.Instance),
        ["widest-fused"] = g => new Coupling(Masks.Halves(6), new Mlp(3, 6, new[] { NormalizingFlows.Runtime.FusedKernels.MaximumWidth }, generator: g), AffineTransform.Instance),
    };

    public static IEnumerable<object[]> CouplingCases => Couplings.Keys.SelectMany(name => new[] { new object[] { name, false }, new object[] { name, true } });

    [Theory]
    [MemberData(nameof(CouplingCases))]
    public void Should_Match_The_Operation_Path_In_Values_And_Gradients_When_A_Coupling_Is_Fused(string name, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11);
        using var coupling = Couplings[name](generator);
        Assert.True(IsFusable(coupling) || (name.StartsWith("blas", StringComparison.Ordinal) && !NormalizingFlows.Kernels.Blas.Available),
            $"{name} should take the fused kernel.");
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

    [Theory]
    [InlineData("blas-relu-wide", false)]
    [InlineData("blas-relu-wide", true)]
    [InlineData("blas-parallel-real-nvp", false)]
    [InlineData("blas-parallel-real-nvp", true)]
    [InlineData("affine-relu-halves", false)]
    public void Should_Match_The_Operation_Path_When_A_Batch_Spans_Several_Blocks(string name, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        using var coupling = Couplings[name](generator);
        Perturb(coupling, generator);
        coupling.eval();
        long rows = 5L * NormalizingFlows.Kernels.FusedCoupling.BlockRows / 2 + 3;
        var x = torch.randn(new long[] { rows, coupling.EventShape[0] }, generator: generator);
        using var noGrad = torch.no_grad();
        Tensor y, ld;
        using (TestThreads.Use(2)) // wide networks share the blocks out among the threads
            (y, ld) = inverse ? coupling.Inverse(x) : coupling.Forward(x);
        var (yRef, ldRef) = coupling.ApplyByOperations(x, null, inverse);
        double outputs = y.sub(yRef).abs().max().ToDouble(), logDets = ld.sub(ldRef).abs().max().ToDouble();
        Assert.True(outputs <= 1e-5 * Math.Max(1.0, yRef.abs().max().ToDouble()), $"{name}: outputs differ by {outputs:E2}.");
        Assert.True(logDets <= 1e-5 * Math.Max(1.0, ldRef.abs().max().ToDouble()), $"{name}: log-dets differ by {logDets:E2}.");
    }

    [Theory]
    [InlineData("blas-parallel-real-nvp", false)]
    [InlineData("blas-parallel-real-nvp", true)]
    [InlineData("blas-parallel-narrow", false)]
    public void Should_Match_The_Operation_Paths_Gradients_When_A_Training_Batch_Spans_Several_Backward_Blocks(string name, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(13);
        using var coupling = Couplings[name](generator);
        coupling.to(ScalarType.Float64);
        Perturb(coupling, generator);
        long rows = 2L * NormalizingFlows.Kernels.FusedCoupling.TrainingBlockRows + 37;
        var x = torch.randn(new long[] { rows, coupling.EventShape[0] }, dtype: ScalarType.Float64, generator: generator).mul(1.5);

        var fused = Differentiate(coupling, x, input => inverse ? coupling.Inverse(input) : coupling.Forward(input));
        var reference = Differentiate(coupling, x, input => coupling.ApplyByOperations(input, null, inverse));
        AssertClose(reference, fused, $"{name} over {rows} rows");
    }

    [Theory]
    [InlineData("blas-relu-wide")]
    [InlineData("blas-parallel-real-nvp")]
    [InlineData("affine-relu-halves")]
    public void Should_Give_The_Operation_Paths_Gradients_When_Backward_Runs_Twice_Through_A_Retained_Graph(string name)
    {
        // Wide couplings keep their hidden layers in pooled work for the first backward pass, and recompute them for a second
        // through a retained graph, which must give the same gradients, as the operation path does.
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(29);
        using var coupling = Couplings[name](generator);
        coupling.to(ScalarType.Float64);
        Perturb(coupling, generator);
        var x = torch.randn(new long[] { 41, coupling.EventShape[0] }, dtype: ScalarType.Float64, generator: generator);
        Tensor[] Twice(Func<Tensor, (Tensor Output, Tensor LogAbsDet)> apply)
        {
            var input = x.detach().clone().requires_grad_(true);
            var (y, ld) = apply(input);
            var loss = y.square().sum().add(ld.mul(0.3).sum());
            var first = torch.autograd.grad(new[] { loss }, new[] { input }.Concat(coupling.parameters()).ToArray(), retain_graph: true);
            var second = torch.autograd.grad(new[] { loss }, new[] { input }.Concat(coupling.parameters()).ToArray());
            return first.Concat(second).ToArray();
        }
        var fused = Twice(input => coupling.Forward(input));
        var reference = Twice(input => coupling.ApplyByOperations(input, null, inverse: false));
        AssertClose(reference, fused, name + " (two backward passes)");
    }

    /// <summary>A masked autoregressive layer trains its density direction through the coupling kernel, whose network reads the
    /// columns that move: the network's input gradient adds to theirs (and to the context's).</summary>
    [Theory]
    [InlineData("wide", 41)]                                                                   // register tiles, the forward pass's work kept
    [InlineData("wide", 2 * NormalizingFlows.Kernels.FusedCoupling.TrainingBlockRows + 37)]  // recomputed block by block
    [InlineData("wide-context", 41)]
    [InlineData("narrow-context", 41)]                                                         // the column kernel
    public void Should_Give_The_Operation_Paths_Gradients_When_A_Masked_Autoregressive_Layer_Trains(string name, int rows)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(23);
        int context = name.EndsWith("context", StringComparison.Ordinal) ? 2 : 0;
        int[] hidden = name.StartsWith("wide", StringComparison.Ordinal) ? new[] { 64, 40 } : new[] { 12, 9 };
        using var layer = MaskedAutoregressive.WithMade(5, hidden, contextFeatures: context, order: new[] { 3, 0, 4, 1, 2 },
            transform: new AffineTransform(ScaleMap.SoftClamp, bound: 2.0), generator: generator);
        if (name.StartsWith("wide", StringComparison.Ordinal) && !NormalizingFlows.Kernels.Blas.Available) return;
        layer.to(ScalarType.Float64);
        Perturb(layer, generator);
        Assert.True(NormalizingFlows.Kernels.FusionPlanner.Plan(layer, NormalizingFlows.Kernels.PlanKey.Cpu(ScalarType.Float64, gradients: true)).Layers[0].Trains
            || (name.StartsWith("wide", StringComparison.Ordinal) && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated), $"{name} should train fused.");
        var x = torch.randn(new long[] { rows, 5 }, dtype: ScalarType.Float64, generator: generator).mul(1.5);
        var c = context == 0 ? null : torch.randn(new long[] { rows, context }, dtype: ScalarType.Float64, generator: generator);

        // Two backward passes through one retained graph: the first reads the forward pass's work, the second recomputes it.
        Tensor[] Gradients(bool on)
        {
            using var fused = NormalizingFlows.Runtime.FusedKernels.Scoped(on);
            var input = x.detach().clone().requires_grad_(true);
            var condition = c?.detach().clone().requires_grad_(true);
            var (z, ld) = layer.Inverse(input, condition);
            using var weights = torch.linspace(-1, 1, z.numel(), dtype: z.dtype).reshape(z.shape);
            var loss = z.mul(weights).sum().add(ld.mul(0.7).sum());
            var wrt = new[] { input }.Concat(condition is null ? Array.Empty<Tensor>() : new[] { condition }).Concat(layer.parameters()).ToArray();
            var first = torch.autograd.grad(new[] { loss }, wrt, retain_graph: true);
            var second = torch.autograd.grad(new[] { loss }, wrt);
            return new[] { z.detach(), ld.detach() }.Concat(first).Concat(second).ToArray();
        }
        AssertClose(Gradients(false), Gradients(true), $"{name} over {rows} rows");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Should_Give_Bitwise_Identical_Gradients_When_A_Two_Network_Coupling_Trains_On_The_Same_Batch_Again(ScalarType dtype)
    {
        // Training repeats to the bit (a resumed checkpoint follows an uninterrupted run): the fused node's sums must not depend on
        // which pooled buffers it gets or how they are aligned. Other evaluations in between reshuffle the pools.
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(31);
        using var coupling = Couplings["blas-parallel-real-nvp"](generator);
        coupling.to(dtype);
        Perturb(coupling, generator);
        var x = torch.randn(new long[] { 517, 2 }, dtype: dtype, generator: generator);
        Tensor[] Gradients()
        {
            var input = x.detach().clone().requires_grad_(true);
            var (y, ld) = coupling.Inverse(input);
            return torch.autograd.grad(new[] { y.square().sum().add(ld.sum()) }, new[] { input }.Concat(coupling.parameters()).ToArray()).ToArray();
        }
        var first = Gradients();
        using (torch.no_grad()) coupling.Forward(torch.randn(new long[] { 3001, 2 }, dtype: dtype, generator: generator));
        var second = Gradients();
        for (int i = 0; i < first.Length; i++) Assert.True(first[i].eq(second[i]).all().item<bool>(), $"gradient {i} differs between two identical steps");
    }

    [Fact]
    public void Should_Leave_Splines_To_The_Operation_Path_And_Wide_Networks_Where_There_Is_No_Blas_But_Fuse_Contextual_Ones()
    {
        using var wide = new Coupling(Masks.Halves(4), new Mlp(2, 4, new[] { NormalizingFlows.Runtime.FusedKernels.MaximumWidth + 1 }), AffineTransform.Instance);
        using var contextual = new Coupling(Masks.Halves(4), new Mlp(2, 4, new[] { 4 }, contextFeatures: 2), AffineTransform.Instance);
        using var spline = Coupling.WithMlp(Masks.Halves(4), new[] { 4 }, transform: new RationalQuadraticSpline(4, 3.0));
        Assert.Equal(NormalizingFlows.Kernels.Blas.Available, IsFusable(wide));
        Assert.True(IsFusable(contextual));
        Assert.False(IsFusable(spline));
    }

    [Fact]
    public void Should_Find_The_Blas_And_OpenMp_Runtime_Of_The_Linux_Libtorch()
    {
        if (!OperatingSystem.IsLinux() || !System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.Equals(System.Runtime.InteropServices.Architecture.X64)) return;
        Assert.True(NormalizingFlows.Kernels.Blas.Available, "libtorch_cpu should export sgemm_/dgemm_ (MKL).");
        Assert.True(NormalizingFlows.Kernels.OpenMpTeam.Available, "GOMP_parallel should be found through libtorch_cpu.");
    }

    [Fact]
    public void Should_Run_Every_Thread_And_Pass_On_An_Exception_When_Work_Runs_On_The_OpenMp_Team()
    {
        if (!NormalizingFlows.Kernels.OpenMpTeam.Available) return;
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        NormalizingFlows.Kernels.OpenMpTeam.Run(2, (thread, threads) => seen[thread] = threads);
        Assert.NotEmpty(seen);
        Assert.All(seen, pair => Assert.InRange(pair.Key, 0, pair.Value - 1));
        Assert.Equal(seen.First().Value, seen.Count);
        var error = Assert.Throws<InvalidOperationException>(() =>
            NormalizingFlows.Kernels.OpenMpTeam.Run(2, (thread, _) => { if (thread == 0) throw new InvalidOperationException("from the team"); }));
        Assert.Equal("from the team", error.Message);
    }

    [Theory]
    [InlineData(2, false, false)]
    [InlineData(2, true, false)]
    [InlineData(2, true, true)]
    [InlineData(5, true, false)]
    [InlineData(5, true, true)]
    [InlineData(5, false, true)]
    public void Should_Match_The_Operation_Path_When_An_Lu_Linear_Layer_Is_Fused(int features, bool permuted, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(17);
        using var layer = permuted ? LuLinear.WithRandomPermutation(features, generator) : new LuLinear(features);
        layer.to(ScalarType.Float64);
        Perturb(layer, generator);
        var x = torch.randn(new long[] { 41, features }, dtype: ScalarType.Float64, generator: generator).mul(2);
        string name = $"LU linear features={features} permuted={permuted} inverse={inverse}";

        var fused = Differentiate(layer, x, input => inverse ? layer.Inverse(input) : layer.Forward(input));
        var reference = Differentiate(layer, x, input => layer.ApplyByOperations(input, inverse));
        AssertClose(reference, fused, name);

        using var noGrad = torch.no_grad();
        var (y, ld) = inverse ? layer.Inverse(x) : layer.Forward(x);
        var (yRef, ldRef) = layer.ApplyByOperations(x, inverse);
        AssertClose(new[] { yRef, ldRef }, new[] { y, ld }, name + " without gradients");
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

    private static readonly Dictionary<string, Func<Generator, Coupling>> ConditionalCouplings = new()
    {
        ["context-narrow"] = g => new Coupling(Masks.Halves(4), new Mlp(2, 4, new[] { 8, 8 }, contextFeatures: 3, generator: g), AffineTransform.Instance),
        ["context-wide"] = g => new Coupling(Masks.Halves(2), new Mlp(1, 2, new[] { 64, 64 }, contextFeatures: 3, generator: g), AffineTransform.Instance),
        ["context-parallel"] = g => new Coupling(Masks.Alternating(2, 1), new ParallelMlp(2, 1, 1, new[] { 64, 64 }, contextFeatures: 5, generator: g),
            new AffineTransform(ScaleMap.SoftClamp, bound: 2.0)),
    };

    [Theory]
    [InlineData("context-narrow", false, 37)]
    [InlineData("context-narrow", true, 37)]
    [InlineData("context-wide", false, 37)]
    [InlineData("context-wide", true, 2600)]
    [InlineData("context-parallel", false, 37)]
    [InlineData("context-parallel", true, 2 * NormalizingFlows.Kernels.FusedCoupling.TrainingBlockRows + 37)]
    public void Should_Match_The_Operation_Path_In_Values_And_Gradients_When_A_Conditional_Coupling_Is_Fused(string name, bool inverse, int rows)
    {
        // The context joins the network's input after the pass-through columns; its gradient comes back through the kernel too.
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(17);
        using var coupling = ConditionalCouplings[name](generator);
        if (name != "context-narrow" && !NormalizingFlows.Kernels.Blas.Available) return;
        Assert.True(IsFusable(coupling), $"{name} should take the fused kernel.");
        coupling.to(ScalarType.Float64);
        Perturb(coupling, generator);
        var x = torch.randn(new long[] { rows, coupling.EventShape[0] }, dtype: ScalarType.Float64, generator: generator).mul(1.5);
        var context = torch.randn(new long[] { rows, coupling.ContextFeatures }, dtype: ScalarType.Float64, generator: generator);

        Tensor[] Run(Func<Tensor, Tensor, (Tensor Output, Tensor LogAbsDet)> apply)
        {
            foreach (var p in coupling.parameters()) p.grad = null;
            var input = x.detach().clone().requires_grad_(true);
            var condition = context.detach().clone().requires_grad_(true);
            var (y, ld) = apply(input, condition);
            using var weights = torch.linspace(-1, 1, y.numel(), dtype: y.dtype).reshape(y.shape);
            y.mul(weights).sum().add(ld.mul(0.7).sum()).backward();
            return new[] { y.detach(), ld.detach(), input.grad!.clone(), condition.grad!.clone() }.Concat(coupling.parameters().Select(p => p.grad!.clone())).ToArray();
        }
        var fused = Run((input, c) => inverse ? coupling.Inverse(input, c) : coupling.Forward(input, c));
        var reference = Run((input, c) => coupling.ApplyByOperations(input, c, inverse));
        AssertClose(reference, fused, name);

        using var noGrad = torch.no_grad();
        var (y, ld) = inverse ? coupling.Inverse(x, context) : coupling.Forward(x, context);
        var (yRef, ldRef) = coupling.ApplyByOperations(x, context, inverse);
        AssertClose(new[] { yRef, ldRef }, new[] { y, ld }, name + " without gradients");
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

    private static void AssertClose(IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual, string what) =>
        NormalizingFlows.Tests.Support.KernelAssert.Close(expected, actual, what);

    /// <summary>Whether the planner gives the coupling's shape a kernel (whatever its dtype and the kernel switch).</summary>
    private static bool IsFusable(Coupling coupling) =>
        NormalizingFlows.Kernels.FusionPlanner.Plan(coupling, NormalizingFlows.Kernels.PlanKey.Cpu(ScalarType.Float32, gradients: false)).Layers[0].Operations
        != NormalizingFlows.Kernels.LayerOperations.Operations;
}
