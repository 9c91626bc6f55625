using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Data;
using NormalizingFlows.Internal;
using NormalizingFlows.Kernels;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Kernels;

/// <summary>
/// The planner's decisions (<see cref="FusionPlanner"/>), table by table: per layer kind, shape, dtype, device, gradient mode and
/// kernel switch, how the layer runs; per chain, whether it runs block by block; per flow, the evaluation pieces; and, for the
/// catalogue's presets, which layers run fused (the cases the kernels took before the planner, plus a standardised flow's
/// evaluation pieces).
/// </summary>
public sealed class FusionPlannerTests
{
    private static readonly LayerOperations WideRelu = Vector512.IsHardwareAccelerated ? LayerOperations.Tiles : LayerOperations.Blas;

    private static readonly Dictionary<string, Func<Bijector>> Layers = new()
    {
        ["narrow-relu"] = () => Coupling.WithMlp(Masks.Halves(4), new[] { 8, 8 }),
        ["narrow-tanh-bounded"] = () => Coupling.WithMlp(Masks.Alternating(2, 0), new[] { 4 }, transform: new TanhBoundedAffineTransform(1), activation: Activation.Tanh),
        ["narrow-soft-clamp-leaky"] = () => Coupling.WithMlp(Masks.Alternating(3, 1), new[] { 5 }, transform: new AffineTransform(ScaleMap.SoftClamp), activation: Activation.LeakyRelu),
        ["widest-columns"] = () => Coupling.WithMlp(Masks.Halves(6), new[] { NormalizingFlows.Runtime.FusedKernels.MaximumWidth }),
        ["wide-one-layer"] = () => new Coupling(Masks.Halves(40), new Mlp(20, 40, Array.Empty<int>()), AffineTransform.Instance),
        ["wide-relu"] = () => Coupling.WithMlp(Masks.Halves(2), new[] { 64, 64 }),
        ["wide-tanh"] = () => Coupling.WithMlp(Masks.Halves(2), new[] { 64, 64 }, activation: Activation.Tanh),
        ["parallel-relu"] = () => new Coupling(Masks.Alternating(2, 1), new ParallelMlp(2, 1, 1, new[] { 64, 64 }), AffineTransform.Instance),
        ["parallel-tanh"] = () => new Coupling(Masks.Alternating(2, 1), new ParallelMlp(2, 1, 1, new[] { 8 }, activation: Activation.Tanh), AffineTransform.Instance),
        ["parallel-no-hidden"] = () => new Coupling(Masks.Alternating(2, 1), new ParallelMlp(2, 1, 1, Array.Empty<int>()), AffineTransform.Instance),
        ["contextual"] = () => Coupling.WithMlp(Masks.Halves(4), new[] { 4 }, contextFeatures: 2),
        ["contextual-wide"] = () => Coupling.WithMlp(Masks.Halves(2), new[] { 64, 64 }, contextFeatures: 3),
        ["contextual-parallel"] = () => new Coupling(Masks.Alternating(2, 1), new ParallelMlp(2, 1, 1, new[] { 64, 64 }, contextFeatures: 3), AffineTransform.Instance),
        ["silu"] = () => Coupling.WithMlp(Masks.Halves(4), new[] { 4 }, activation: Activation.Silu),
        ["sigmoid-scale"] = () => Coupling.WithMlp(Masks.Halves(4), new[] { 4 }, transform: new AffineTransform(ScaleMap.Sigmoid)),
        ["additive"] = () => Coupling.WithMlp(Masks.Halves(4), new[] { 4 }, transform: AdditiveTransform.Instance),
        ["spline"] = () => Coupling.WithMlp(Masks.Halves(4), new[] { 4 }, transform: new RationalQuadraticSpline(4, 3.0)),
        ["made-narrow"] = () => MaskedAutoregressive.WithMade(3, new[] { 8 }),
        ["made-wide"] = () => MaskedAutoregressive.WithMade(4, new[] { 64, 64 }, transform: new AffineTransform(ScaleMap.SoftClamp)),
        ["made-tanh-wide"] = () => MaskedAutoregressive.WithMade(4, new[] { 64, 64 }, activation: Activation.Tanh),
        ["made-contextual"] = () => MaskedAutoregressive.WithMade(3, new[] { 8 }, contextFeatures: 2),
        ["made-residual"] = () => MaskedAutoregressive.WithMade(3, new[] { 8, 8 }, residual: true),
        ["made-spline"] = () => MaskedAutoregressive.WithMade(3, new[] { 8 }, transform: new RationalQuadraticSpline(4, 3.0)),
        ["made-silu"] = () => MaskedAutoregressive.WithMade(3, new[] { 8 }, activation: Activation.Silu),
        ["lu-16"] = () => new LuLinear(16),
        ["lu-17"] = () => new LuLinear(17),
        ["leaky-relu"] = () => new LearnableLeakyRelu(3),
        ["standardization"] = () => new Standardization(3),
        ["act-norm"] = () => new ActNorm(3),
    };

    /// <summary>Layer, the operations it runs as, whether it runs its kernel without and with gradients (float32 on the CPU, its
    /// parameters float32, kernels on).</summary>
    public static IEnumerable<object[]> LayerTable => new[]
    {
        new object[] { "narrow-relu", LayerOperations.Columns, true, true },
        new object[] { "narrow-tanh-bounded", LayerOperations.Columns, true, true },
        new object[] { "narrow-soft-clamp-leaky", LayerOperations.Columns, true, true },
        new object[] { "widest-columns", LayerOperations.Columns, true, true },
        new object[] { "wide-one-layer", LayerOperations.Columns, true, true },          // one layer wider than 16: still columns
        new object[] { "wide-relu", "wide-relu", true, "tiles" },                         // a single wide network trains where tiled
        new object[] { "wide-tanh", LayerOperations.Blas, true, false },
        new object[] { "parallel-relu", "wide-relu", true, "tiles" },                    // RealNVP's two networks train where tiled
        new object[] { "parallel-tanh", LayerOperations.Blas, true, false },
        new object[] { "parallel-no-hidden", LayerOperations.Operations, false, false },
        new object[] { "contextual", LayerOperations.Columns, true, true },              // the context joins the network's input
        new object[] { "contextual-wide", "wide-relu", true, "tiles" },
        new object[] { "contextual-parallel", "wide-relu", true, "tiles" },
        new object[] { "silu", LayerOperations.Operations, false, false },
        new object[] { "sigmoid-scale", LayerOperations.Operations, false, false },
        new object[] { "additive", LayerOperations.Operations, false, false },
        new object[] { "spline", LayerOperations.Operations, false, false },
        new object[] { "made-narrow", LayerOperations.Columns, true, true },              // MADE: evaluates both ways, trains its density pass
        new object[] { "made-wide", "wide-relu", true, "tiles" },
        new object[] { "made-tanh-wide", LayerOperations.Blas, true, false },
        new object[] { "made-contextual", LayerOperations.Columns, true, true },
        new object[] { "made-residual", LayerOperations.Operations, false, false },
        new object[] { "made-spline", LayerOperations.Operations, false, false },
        new object[] { "made-silu", LayerOperations.Operations, false, false },
        new object[] { "lu-16", LayerOperations.RowAffine, true, true },
        new object[] { "lu-17", LayerOperations.Operations, false, false },
        new object[] { "leaky-relu", LayerOperations.Elementwise, true, true },
        new object[] { "standardization", LayerOperations.Operations, false, false },
        new object[] { "act-norm", LayerOperations.Operations, false, false },
    };

    [Theory]
    [MemberData(nameof(LayerTable))]
    public void Should_Plan_Each_Layer_As_Its_Shape_Allows(string name, object operations, bool evaluates, object trains)
    {
        using var layer = Layers[name]();
        var expectedOperations = operations is LayerOperations o ? o : WideRelu;
        bool expectedTrains = trains is bool b ? b : WideRelu == LayerOperations.Tiles;
        // Shapes that need the BLAS take the operations where the loaded libtorch exports none.
        bool needsBlas = expectedOperations is LayerOperations.Blas or LayerOperations.Tiles || name.Contains("parallel", StringComparison.Ordinal) || name == "wide-one-layer";
        if (needsBlas && !Blas.Available) (expectedOperations, evaluates, expectedTrains) = (LayerOperations.Operations, false, false);

        foreach (bool gradients in new[] { false, true })
        {
            var plan = FusionPlanner.Plan(layer, PlanKey.Cpu(ScalarType.Float32, gradients)).Layers.Single();
            Assert.Equal(expectedOperations, plan.Operations);
            Assert.Equal(evaluates, plan.Evaluates);
            Assert.Equal(expectedTrains, plan.Trains);
            Assert.False(plan.InBlockChain);
            Assert.Equal(layer.GetType().Name, plan.Layer);
            Assert.Equal(name.Contains("contextual", StringComparison.Ordinal) && evaluates, plan.TakesContext);
            Assert.Equal(name.StartsWith("made", StringComparison.Ordinal) && evaluates, plan.Ranks is not null);
            Assert.False(plan.InverseOnly);
        }
        // Another dtype than the parameters', another device or the kernels off: the operations, whatever the shape.
        foreach (var key in new[]
        {
            PlanKey.Cpu(ScalarType.Float64, gradients: false),
            PlanKey.Cpu(ScalarType.Float32, gradients: false, on: false),
            new PlanKey(ScalarType.Float32, DeviceType.CUDA, false, true, PlacementCache.Moves),
            PlanKey.Cpu(ScalarType.Float16, gradients: false),
        })
        {
            var plan = FusionPlanner.Plan(layer, key).Layers.Single();
            Assert.False(plan.Evaluates, $"{name} under {key}");
            Assert.False(plan.Trains, $"{name} under {key}");
        }
        layer.to(ScalarType.Float64);
        Assert.Equal(evaluates, FusionPlanner.Plan(layer, PlanKey.Cpu(ScalarType.Float64, gradients: false)).Layers.Single().Evaluates);
    }

    [Fact]
    public void Should_Report_The_Columns_A_Coupling_Moves()
    {
        using var coupling = Coupling.WithMlp(Masks.Alternating(5, 1), new[] { 6 });
        var plan = FusionPlanner.Plan(coupling, PlanKey.Cpu(ScalarType.Float32, gradients: false)).Layers.Single();
        Assert.Equal(new[] { 1, 3 }, plan.FusedColumns);
        Assert.Equal(new[] { 0, 2, 4 }, plan.Coupling!.Pass);
        Assert.Equal(new[] { 3, 6, 4 }, plan.Coupling.Widths);
        Assert.Same(plan.Coupling.Pass, plan.Coupling.Inputs);
    }

    [Fact]
    public void Should_Plan_A_Masked_Autoregressive_Layer_As_A_Network_On_Every_Column_Moving_Every_Column()
    {
        using var layer = MaskedAutoregressive.WithMade(3, new[] { 8 }, contextFeatures: 2);
        var plan = FusionPlanner.Plan(layer, PlanKey.Cpu(ScalarType.Float32, gradients: false)).Layers.Single();
        Assert.Equal(new[] { 0, 1, 2 }, plan.Coupling!.Inputs);
        Assert.Empty(plan.Coupling.Pass);
        Assert.Equal(new[] { 0, 1, 2 }, plan.Coupling.Moved);
        Assert.Equal(new[] { 5, 8, 6 }, plan.Coupling.Widths);
        Assert.False(plan.Coupling.ReadsPassThrough);
    }

    [Fact]
    public void Should_Plan_A_Masked_Autoregressive_Layers_Sampling_Rank_By_Rank_On_The_Units_Of_Lower_Degree()
    {
        // Reversed order: feature 2 has rank 0, feature 1 rank 1, feature 0 rank 2; hidden units cycle through degrees 1, 2.
        using var layer = MaskedAutoregressive.WithMade(3, new[] { 5, 4 }, order: Made.ReversedOrder(3));
        var ranks = FusionPlanner.Plan(layer, PlanKey.Cpu(ScalarType.Float32, gradients: false)).Layers.Single().Ranks!;
        Assert.Equal(3, ranks.Count);
        Assert.Equal(new[] { 0, 2 }, ranks[0].Widths);       // depends on nothing: the output layer's bias
        Assert.Equal(new[] { 2 }, ranks[0].Moved);
        Assert.Equal(new[] { 1, 3, 2, 2 }, ranks[1].Widths); // units of degree 1: 3 of 5, 2 of 4
        Assert.Equal(new[] { 2 }, ranks[1].Inputs);
        Assert.Equal(new[] { 1 }, ranks[1].Moved);
        Assert.Equal(new[] { 2, 5, 4, 2 }, ranks[2].Widths);
        Assert.Equal(new[] { 2, 1 }, ranks[2].Inputs);
        Assert.Equal(new[] { 0 }, ranks[2].Moved);
        Assert.All(ranks, r => Assert.Empty(r.Pass));         // in place: nothing to copy through
    }

    /// <summary>Chain, whether it runs block by block without gradients, whether a flow on it evaluates in fused pieces, and the
    /// paths of the layers that run block by block.</summary>
    public static IEnumerable<object[]> ChainTable => new[]
    {
        new object[] { "two-fused", true, true, "0 1" },
        new object[] { "one-fused", false, false, "" },
        new object[] { "fused-and-spline", false, false, "" },
        new object[] { "fused-and-act-norm", false, false, "" },
        new object[] { "standardised", false, true, "0.0 0.1 0.2" },
        new object[] { "nested-with-spline", false, false, "0.0 0.1" },
        new object[] { "nested-twice", false, true, "0.0.0 0.0.1" },
        new object[] { "fused-and-contextual", false, false, "" },  // a stage sees rows only: a conditional coupling has none
        new object[] { "fused-and-made", true, true, "0 1" },       // a MADE: its density pass, or its ranks one after another
    };

    private static Chain BuildChain(string name)
    {
        Bijector Fused(int i) => Coupling.WithMlp(Masks.Alternating(2, i % 2), new[] { 8 });
        return name switch
        {
            "two-fused" => new Chain(Fused(0), Fused(1)),
            "one-fused" => new Chain(Fused(0)),
            "fused-and-spline" => new Chain(Fused(0), Coupling.WithMlp(Masks.Halves(2), new[] { 4 }, transform: new RationalQuadraticSpline(4, 3.0))),
            "fused-and-act-norm" => new Chain(Fused(0), new ActNorm(2)),
            "standardised" => new Chain(new Chain(Fused(0), new LuLinear(2), new LearnableLeakyRelu(2)), new Standardization(2)),
            "nested-with-spline" => new Chain(new Chain(Fused(0), Fused(1)), Coupling.WithMlp(Masks.Halves(2), new[] { 4 }, transform: new RationalQuadraticSpline(4, 3.0))),
            "fused-and-contextual" => new Chain(Fused(0), Coupling.WithMlp(Masks.Alternating(2, 1), new[] { 8 }, contextFeatures: 2)),
            "fused-and-made" => new Chain(Fused(0), MaskedAutoregressive.WithMade(2, new[] { 8 })),
            "nested-twice" => new Chain(new Chain(new Chain(Fused(0), Fused(1)), new Standardization(2)), new Standardization(2)),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    [Theory]
    [MemberData(nameof(ChainTable))]
    public void Should_Plan_Each_Chain_Block_By_Block_Where_Every_Layer_Has_A_Stage(string name, bool blockByBlock, bool fusedPieces, string inBlockChain)
    {
        using var chain = BuildChain(name);
        var plan = FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float32, gradients: false));
        Assert.Equal(blockByBlock, plan.BlockByBlock);
        Assert.Equal(fusedPieces, plan.FusedPieces);
        Assert.Equal(fusedPieces ? EvaluationPieces.FusedElements / 2 : null, plan.PieceRows(2));
        Assert.Equal(fusedPieces ? EvaluationPieces.MinimumRows : null, plan.PieceRows(10_000));
        Assert.Equal(inBlockChain, string.Join(' ', plan.Layers.Where(l => l.InBlockChain).Select(l => l.Path)));
        // With gradients, with the kernels off or on float64 rows (float32 parameters): layer by layer, whole pieces.
        foreach (var key in new[] { PlanKey.Cpu(ScalarType.Float32, gradients: true), PlanKey.Cpu(ScalarType.Float32, false, on: false), PlanKey.Cpu(ScalarType.Float64, false) })
        {
            var other = FusionPlanner.Plan(chain, key);
            Assert.False(other.BlockByBlock);
            Assert.False(other.FusedPieces);
            Assert.DoesNotContain(other.Layers, l => l.InBlockChain);
        }
    }

    [Fact]
    public void Should_Keep_A_Plan_Until_A_Module_Moves()
    {
        using var chain = BuildChain("two-fused");
        var key = PlanKey.Cpu(ScalarType.Float32, gradients: false);
        var first = FusionPlanner.Plan(chain, key);
        Assert.Same(first, FusionPlanner.Plan(chain, key));
        chain.to(ScalarType.Float64);
        var moved = PlanKey.Cpu(ScalarType.Float32, gradients: false);
        Assert.NotEqual(key, moved);
        Assert.False(FusionPlanner.Plan(chain, moved).BlockByBlock);
        Assert.True(FusionPlanner.Plan(chain, PlanKey.Cpu(ScalarType.Float64, gradients: false)).BlockByBlock);
    }

    /// <summary>Preset (2 features), whether its chain runs block by block, the layers that run a kernel (float32, no gradients),
    /// and whether it evaluates in fused pieces, plain and standardised: what the kernels took before the planner (the same
    /// layers and chains), with a standardised flow's pieces fused as well.</summary>
    public static IEnumerable<object[]> PresetTable => new[]
    {
        new object[] { "glow", false, "Coupling x8, LuLinear x8", false },
        new object[] { "iaf", false, "", false },
        new object[] { "leaky-coupling", true, "Coupling x9, LearnableLeakyRelu x9", true },
        new object[] { "lu-coupling", true, "Coupling x16, LuLinear x16", true },
        new object[] { "maf", false, "MaskedAutoregressive x5", false },
        new object[] { "nice", false, "", false },
        new object[] { "nsf-autoregressive", false, "", false },
        new object[] { "nsf-coupling", false, "LuLinear x6", false },
        new object[] { "planar", false, "", false },
        new object[] { "radial", false, "", false },
        new object[] { "real-nvp", true, "Coupling x8", true },
        new object[] { "residual", false, "", false },
    };

    [Theory]
    [MemberData(nameof(PresetTable))]
    public void Should_Fuse_The_Same_Layers_Of_Each_Preset(string preset, bool blockByBlock, string fused, bool fusedPieces)
    {
        using var flow = FlowCatalog.Get(preset).Create(new PresetOptions(2));
        var key = PlanKey.Cpu(ScalarType.Float32, gradients: false);
        var plan = FusionPlanner.Plan(flow.Bijector, key);
        Assert.Equal(blockByBlock, plan.BlockByBlock);
        Assert.Equal(fused, Summary(plan));
        Assert.Equal(fusedPieces, plan.FusedPieces);
        Assert.Equal(blockByBlock, plan.Layers.All(l => l.InBlockChain));

        using var standardized = flow.Standardized(torch.randn(50, 2));
        var outer = FusionPlanner.Plan(standardized.Bijector, key);
        Assert.False(outer.BlockByBlock); // the standardisation has no stage: the inner chain runs block by block on its own
        Assert.Equal(fused, Summary(outer));
        Assert.Equal(fusedPieces, outer.FusedPieces);
        Assert.Equal(blockByBlock, FusionPlanner.Plan((Bijector)((Chain)standardized.Bijector).Layers[0], key).BlockByBlock);
        Assert.All(outer.Layers, l => Assert.Equal(blockByBlock && l.Path.StartsWith("0.", StringComparison.Ordinal), l.InBlockChain));
    }

    private static string Summary(FusionPlan plan) => string.Join(", ", plan.Layers.Where(l => l.Evaluates)
        .GroupBy(l => l.Layer).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}"));
}
