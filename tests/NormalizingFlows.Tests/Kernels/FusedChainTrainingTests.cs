using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Kernels;
using NormalizingFlows.Tests.Support;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>A whole chain trained as one autograd node (<see cref="FusedChainTraining"/>) against the same layers on libtorch's
/// operations: the same outputs, summed log-dets and gradients (input and every parameter) in float64, both directions, over one
/// part of the rows and several, with and without the input's gradient (training on data wants none), two backward passes through
/// a retained graph, and the same bits on one thread and two.</summary>
public sealed class FusedChainTrainingTests
{
    /// <summary>Every kind of layer that trains as a stage: a wide coupling (register tiles), an LU layer with a permutation, a
    /// narrow tanh-bounded coupling (the column kernel), RealNVP's two networks side by side, and (for the density direction)
    /// masked autoregressive layers, a wide soft-clamped one in a custom order and a narrow one.</summary>
    private static Chain TrainableChain(Generator g, bool autoregressive)
    {
        var layers = new List<Bijector>
        {
            new Coupling(Masks.Alternating(3, 0), new Mlp(1, 4, new[] { 64, 64 }, generator: g), AffineTransform.Instance),
            new LuLinear(3, new long[] { 2, 0, 1 }),
            new Coupling(Masks.Alternating(3, 1), new Mlp(2, 2, new[] { 4 }, activation: Activation.Tanh, generator: g), new TanhBoundedAffineTransform(1, initialBound: 0.8)),
            new Coupling(Masks.Alternating(3, 0), new ParallelMlp(2, 1, 2, new[] { 40, 24 }, generator: g), AffineTransform.Instance),
            new LuLinear(3),
        };
        if (autoregressive)
        {
            layers.Add(MaskedAutoregressive.WithMade(3, new[] { 48, 40 }, transform: new AffineTransform(ScaleMap.SoftClamp), order: new[] { 1, 2, 0 }, generator: g));
            layers.Add(MaskedAutoregressive.WithMade(3, new[] { 8 }, order: Made.ReversedOrder(3), generator: g));
        }
        return new Chain(layers);
    }

    [Theory]
    [InlineData(false, 37, true)]                                     // one part
    [InlineData(true, 37, true)]
    [InlineData(false, 3 * FusedChainTraining.PartRows + 5, true)]  // three parts
    [InlineData(true, 3 * FusedChainTraining.PartRows + 5, true)]
    [InlineData(true, 2 * FusedChainTraining.PartRows, false)]      // training on data: no input gradient
    public void Should_Give_The_Operation_Paths_Outputs_And_Gradients_When_A_Chain_Trains_As_One_Node(bool inverse, int rows, bool inputGradient)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(29);
        using var chain = TrainableChain(generator, autoregressive: inverse);
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated || !Blas.Available) return;
        chain.to(ScalarType.Float64);
        Perturb(chain, generator);
        var plan = FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float64, gradients: true));
        Assert.True(plan.TrainsAsOne(inverse), "every layer of the chain should train as a stage");
        var x = torch.randn(new long[] { rows, 3 }, dtype: ScalarType.Float64, generator: generator).mul(1.5);

        // Two backward passes through one retained graph: the first reads the forward pass's work, the second recomputes it.
        Tensor[] Gradients(bool oneNode, int threads)
        {
            int before = torch.get_num_threads();
            torch.set_num_threads(threads);
            try
            {
                var input = x.detach().clone().requires_grad_(inputGradient);
                Tensor y, ld;
                if (oneNode)
                {
                    using var on = NormalizingFlows.Runtime.FusedKernels.Scoped(true);
                    var fused = FusedChainTraining.TryApply(FusionPlanner.Plan(chain, input), input, inverse);
                    Assert.NotNull(fused);
                    (y, ld) = fused.Value;
                }
                else
                {
                    using var off = NormalizingFlows.Runtime.FusedKernels.Scoped(false);
                    (y, ld) = inverse ? chain.Inverse(input) : chain.Forward(input);
                }
                using var weights = torch.linspace(-1, 1, y.numel(), dtype: y.dtype).reshape(y.shape);
                var loss = y.mul(weights).sum().add(ld.mul(0.7).sum());
                var wrt = (inputGradient ? new[] { input } : Array.Empty<Tensor>()).Concat(chain.parameters()).ToArray();
                var first = torch.autograd.grad(new[] { loss }, wrt, retain_graph: true);
                var second = torch.autograd.grad(new[] { loss }, wrt);
                return new[] { y.detach(), ld.detach() }.Concat(first).Concat(second).ToArray();
            }
            finally
            {
                torch.set_num_threads(before);
            }
        }
        var expected = Gradients(oneNode: false, threads: 1);
        var single = Gradients(oneNode: true, threads: 1);
        AssertClose(expected, single, $"{(inverse ? "inverse" : "forward")} over {rows} rows");
        // The parts' gradients add up in part order whatever the thread count.
        var two = Gradients(oneNode: true, threads: 2);
        for (int i = 0; i < single.Length; i++) Assert.True(single[i].eq(two[i]).all().item<bool>(), $"tensor {i} differs between one thread and two");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_Add_Each_Weights_Gradient_Once_Straight_Into_Its_Buffer_Within_Direct_Gradients(bool autoregressive)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(41);
        // The masked autoregressive layers' weight matrices are masked products, not parameters: their gradients stay autograd's.
        using var chain = TrainableChain(generator, autoregressive);
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated || !Blas.Available) return;
        chain.to(ScalarType.Float64);
        Perturb(chain, generator);
        var x = torch.randn(new long[] { 300, 3 }, dtype: ScalarType.Float64, generator: generator);
        var parameters = chain.parameters().ToArray();
        static Tensor Loss(Tensor z, Tensor ld) => z.square().sum().mul(0.5).sub(ld.sum());
        Tensor[] expected;
        using (NormalizingFlows.Runtime.FusedKernels.Scoped(false))
        {
            var (z, ld) = chain.Inverse(x);
            expected = torch.autograd.grad(new[] { Loss(z, ld) }, parameters).ToArray();
        }

        // Each parameter's buffer a zero tensor of its own, apart from its .grad (where autograd accumulates).
        var buffers = parameters.Select(p => torch.zeros_like(p)).ToArray();
        var table = new Dictionary<Tensor, NativeSpan>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Length; i++)
        {
            table[parameters[i]] = NativeSpan.Of(buffers[i]);
            parameters[i].grad = torch.zeros_like(parameters[i]);
        }
        using (NormalizingFlows.Runtime.FusedKernels.Scoped(true))
        {
            (Tensor Output, Tensor LogAbsDet)? fused;
            using (FusedChainTraining.GradientBuffers(table))
            using (FusedChainTraining.DirectGradients())
                fused = FusedChainTraining.TryApply(FusionPlanner.Plan(chain, x), x, inverse: true);
            Assert.NotNull(fused);
            Loss(fused.Value.Output, fused.Value.LogAbsDet).backward();
        }
        int direct = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            bool straight = buffers[i].abs().max().item<double>() > 0, throughAutograd = parameters[i].grad!.abs().max().item<double>() > 0;
            Assert.False(straight && throughAutograd, $"parameter {i}'s gradient arrived twice");
            KernelAssert.Close(new[] { expected[i] }, new[] { buffers[i].add(parameters[i].grad!) }, $"parameter {i}");
            if (straight) direct++;
        }
        // The masked autoregressive layers' weight matrices went through autograd (their biases are parameters the node reads as
        // they are: straight), and they keep the node in autograd's graph; without them the input wants no gradient, so the first
        // weight goes through autograd to keep the node there. Every other weight went straight.
        int masked = chain.Layers.OfType<MaskedAutoregressive>().Sum(layer => layer.parameters().Count(p => p.dim() == 2));
        Assert.Equal(autoregressive ? parameters.Length - masked : parameters.Length - 1, direct);
    }

    [Fact]
    public void Should_Train_As_One_Node_Only_Where_Every_Layer_Has_A_Training_Stage_In_That_Direction()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        using var couplings = TrainableChain(generator, autoregressive: false);
        using var autoregressive = TrainableChain(generator, autoregressive: true);
        using var leaky = new Chain(couplings.Layers[0], new LearnableLeakyRelu(3, initialSlope: 0.4));
        var training = PlanKey.Cpu(ScalarType.Float32, gradients: true);
        bool tiles = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;

        Assert.Equal(tiles, FusionPlanner.Plan(couplings, training).TrainsAsOne(inverse: false));
        Assert.Equal(tiles, FusionPlanner.Plan(couplings, training).TrainsAsOne(inverse: true));
        // A masked autoregressive layer trains in its density direction only.
        Assert.False(FusionPlanner.Plan(autoregressive, training).TrainsAsOne(inverse: false));
        Assert.Equal(tiles, FusionPlanner.Plan(autoregressive, training).TrainsAsOne(inverse: true));
        // A learnable leaky ReLU has no training stage; without gradients, or with the kernels off, nothing trains.
        Assert.False(FusionPlanner.Plan(leaky, training).TrainsAsOne(inverse: true));
        Assert.False(FusionPlanner.Plan(couplings, PlanKey.Cpu(ScalarType.Float32, gradients: false)).TrainsAsOne(inverse: true));
        Assert.False(FusionPlanner.Plan(couplings, PlanKey.Cpu(ScalarType.Float32, gradients: true, on: false)).TrainsAsOne(inverse: true));
        if (!tiles) return;

        var plan = FusionPlanner.Plan(couplings, training);
        // Nothing tracked: the layers evaluate on their own.
        using (torch.no_grad()) couplings.parameters().ToList().ForEach(p => p.requires_grad_(false));
        Assert.Null(FusedChainTraining.TryApply(plan, torch.randn(8, 3), inverse: true));
        couplings.parameters().ToList().ForEach(p => p.requires_grad_(true));
        Assert.NotNull(FusedChainTraining.TryApply(plan, torch.randn(8, 3), inverse: true));
        // A batch larger than a training block: each layer's own node recomputes block by block.
        Assert.Null(FusedChainTraining.TryApply(plan, torch.randn(FusedCoupling.TrainingBlockRows + 1, 3), inverse: true));
        // The parameters are float32: no stage for float64 rows.
        Assert.Null(FusedChainTraining.TryApply(FusionPlanner.Plan(couplings, PlanKey.Cpu(ScalarType.Float64, gradients: true)),
            torch.randn(new long[] { 8, 3 }, dtype: ScalarType.Float64), inverse: true));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(FusedChainTraining.PartRows - 1, 1)]
    [InlineData(2 * FusedChainTraining.PartRows + 255, 2)]
    [InlineData(FusedCoupling.TrainingBlockRows, FusedChainTraining.MaximumParts)]
    public void Should_Split_A_Batch_Into_Parts_Of_At_Least_The_Part_Rows(int rows, int parts) =>
        Assert.Equal(parts, FusedChainTraining.Parts(rows));

    private static void Perturb(Bijector bijector, Generator generator)
    {
        using var noGrad = torch.no_grad();
        foreach (var p in bijector.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.1));
    }

    private static void AssertClose(IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual, string what)
    {
        foreach (var tensor in expected) Assert.True(tensor.isfinite().all().item<bool>(), $"{what}: the reference should be finite.");
        NormalizingFlows.Tests.Support.KernelAssert.Close(expected, actual, what);
    }
}
