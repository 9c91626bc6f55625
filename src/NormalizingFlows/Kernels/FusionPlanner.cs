using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// The one place that decides whether and how layers run through the fused CPU kernels. It walks a bijector once (nested chains
/// included), asks each layer what it is (<see cref="IFusableLayer"/>), and returns per layer how it runs: its operations
/// (column kernel, register tiles, BLAS, row affine map, elementwise, or libtorch's operations), the columns a coupling moves,
/// whether it runs its kernel without and with gradients, and whether its chain runs it block by block; and for the whole
/// bijector the evaluation piece policy. Chains and layers ask it once per call; the plan is kept per <see cref="PlanKey"/> (dtype,
/// device, gradient mode, kernel switch, module moves) in the module (<see cref="FusionCache"/>).
/// </summary>
internal static class FusionPlanner
{
    /// <summary>The plan of <paramref name="root"/> for a call on <paramref name="x"/> now (kept until a module moves).</summary>
    public static FusionPlan Plan(Bijector root, Tensor x) => Plan(root, PlanKey.For(x));

    /// <summary>The plan of <paramref name="root"/> for <paramref name="key"/>.</summary>
    public static FusionPlan Plan(Bijector root, PlanKey key) => root.FusionCache.Get(key) ?? Build(root, key);

    /// <summary>The plan of a coupling's shape (the column kernel, register tiles or BLAS), or null when no kernel covers it: a
    /// conditioner that does not describe itself, no pass-through input; an activation other than ReLU, tanh or
    /// leaky ReLU; networks side by side other than two with hidden layers where the BLAS is available; a layer wider than
    /// <see cref="FusedKernels.MaximumWidth"/> where the BLAS is not; a transform other than an affine one with the exp or
    /// soft-clamp map or the learned tanh bound.</summary>
    public static CouplingPlan? Coupling(CouplingDescription coupling)
    {
        if (coupling.Network is not { } network || coupling.Transform is not { } transform) return null;
        if (network.InFeatures == 0) return null;
        if (network.Parts != 1 && !(network.Parts == 2 && network.Hidden.Count > 0 && Blas.Available)) return null;
        if (network.Activation is not (Activation.Relu or Activation.Tanh or Activation.LeakyRelu)) return null;
        var widths = new List<int> { network.InFeatures + network.ContextFeatures };
        widths.AddRange(network.Hidden);
        widths.Add(network.PartOutFeatures);
        if (widths.Any(w => w > FusedKernels.MaximumWidth) && !Blas.Available) return null;
        var mask = coupling.Mask;
        var pass = Enumerable.Range(0, mask.Count).Where(i => !mask[i]).ToArray();
        var moved = Enumerable.Range(0, mask.Count).Where(i => mask[i]).ToArray();
        if (network.Parts * network.PartOutFeatures != 2 * moved.Length) return null;
        return Coupling(mask.Count, pass, moved, widths.ToArray(), network.Parts, network.Activation, transform.LogScale, transform.Bound,
            network.ContextFeatures);
    }

    /// <summary>The plan of a masked autoregressive layer's density direction (its inverse), or null where no kernel covers it: the
    /// coupling arithmetic (<see cref="CouplingKernel{T}"/>) with a network that reads every feature (then the context), no
    /// feature passing through and every feature moving; the same networks, activations and maps as a coupling's
    /// (<see cref="Coupling(CouplingDescription)"/>), one network.</summary>
    public static CouplingPlan? Autoregressive(AutoregressiveDescription layer)
    {
        if (layer.Network is not { } network || layer.Transform is not { } transform) return null;
        if (network.Parts != 1 || network.InFeatures != layer.Features || network.PartOutFeatures != 2 * layer.Features) return null;
        if (network.Activation is not (Activation.Relu or Activation.Tanh or Activation.LeakyRelu)) return null;
        var widths = new List<int> { network.InFeatures + network.ContextFeatures };
        widths.AddRange(network.Hidden);
        widths.Add(network.PartOutFeatures);
        if (widths.Any(w => w > FusedKernels.MaximumWidth) && !Blas.Available) return null;
        var all = Enumerable.Range(0, layer.Features).ToArray();
        return new CouplingPlan(layer.Features, Array.Empty<int>(), all, widths.ToArray(), 1, network.Activation, transform.LogScale, transform.Bound,
            CouplingOperations(widths.ToArray(), 1, network.Activation), network.ContextFeatures, inputs: all);
    }

    /// <summary>
    /// The plans of a masked autoregressive layer's sampling direction (its forward map), one per rank in the network's order, or
    /// null where its layout does not fit its density plan. The plan of rank <c>k</c> is a coupling run in place
    /// on its rows (nothing to copy through): its network is the part of the MADE that the parameters of the feature of rank
    /// <c>k</c> depend on, reading the features of rank below <c>k</c> (in rank order, then the context) through the hidden units
    /// of degree at most <c>k</c> (each layer's units sorted by degree) to that feature's two parameters, and it moves that
    /// feature. A rank whose parameters depend on nothing (the first, without a context: no hidden unit has degree 0) is a
    /// single layer with no input, its bias the parameters. Run in rank order, each rank reads only final features.
    /// </summary>
    /// <param name="layer">The layer.</param>
    /// <param name="density">Its density plan (<see cref="Autoregressive"/>).</param>
    public static CouplingPlan[]? AutoregressiveRanks(AutoregressiveDescription layer, CouplingPlan density)
    {
        var layout = layer.Layout;
        int d = layer.Features, c = density.ContextFeatures, hidden = density.Layers - 1;
        if (layout.UnitsUpTo.Length != hidden) return null;
        var ranks = new CouplingPlan[d];
        for (int k = 0; k < d; k++)
        {
            var moved = new[] { (int)layout.FeatureAtRank[k] };
            var units = layout.UnitsUpTo.Select(counts => counts[k]).ToArray();
            if (units.All(u => u == 0))
            {
                // Every layer's units have degrees of at least the same lowest one, so a rank below it sees none of them.
                if (k > 0 || c > 0) return null;
                var constant = new[] { 0, 2 };
                ranks[k] = new CouplingPlan(d, Array.Empty<int>(), moved, constant, 1, density.Activation, density.LogScale, density.Bound,
                    CouplingOperations(constant, 1, density.Activation), 0, Array.Empty<int>());
                continue;
            }
            if (units.Any(u => u == 0)) return null;
            var inputs = layout.FeatureAtRank.Take(k).Select(f => (int)f).ToArray();
            var widths = new[] { k + c }.Concat(units).Append(2).ToArray();
            ranks[k] = new CouplingPlan(d, Array.Empty<int>(), moved, widths, 1, density.Activation, density.LogScale, density.Bound,
                CouplingOperations(widths, 1, density.Activation), c, inputs);
        }
        return ranks;
    }

    /// <summary>The plan of a coupling of this shape, its products decided here (<see cref="CouplingOperations"/>).</summary>
    public static CouplingPlan Coupling(int features, int[] pass, int[] moved, int[] widths, int parts, Activation activation, LogScaleKind logScale, double bound,
        int contextFeatures = 0) =>
        new(features, pass, moved, widths, parts, activation, logScale, bound, CouplingOperations(widths, parts, activation), contextFeatures);

    /// <summary>
    /// How a coupling network's products run: column by column while every layer is at most <see cref="FusedKernels.MaximumWidth"/>
    /// wide (or the network is a single layer) and there is one network; else row by row, as register tiles where the processor
    /// has 512-bit vectors and the hidden activation is ReLU or leaky ReLU (and there is a hidden layer), else on the BLAS.
    /// </summary>
    public static LayerOperations CouplingOperations(int[] widths, int parts, Activation activation)
    {
        int layers = widths.Length - 1;
        bool wide = parts > 1 || (widths.Any(w => w > FusedKernels.MaximumWidth) && layers > 1);
        if (!wide) return LayerOperations.Columns;
        bool tiles = Vector512.IsHardwareAccelerated && layers > 1 && activation is Activation.Relu or Activation.LeakyRelu;
        return tiles ? LayerOperations.Tiles : LayerOperations.Blas;
    }

    /// <summary>Whether a coupling (or a masked autoregressive layer's density pass) of this plan trains through its fused
    /// autograd node: the column kernel and register tiles (a backward pass in a fixed order, so that training repeats to the
    /// bit). A network on the BLAS keeps libtorch's operations with gradients.</summary>
    public static bool TrainsFused(CouplingPlan plan) =>
        plan.Operations == LayerOperations.Columns || plan.Operations == LayerOperations.Tiles;

    /// <summary>Whether the rational-quadratic spline (<see cref="FusedSpline"/>) with <paramref name="bins"/> bins computes
    /// <paramref name="input"/> with <paramref name="parameters"/> through its kernel: kernels on, both CPU tensors of one dtype,
    /// float32 or float64, and the parameters and the state its backward pass keeps each small enough for a span.</summary>
    public static bool SplineRunsFused(Tensor input, Tensor parameters, int bins) =>
        FusedKernels.On && TensorMemory.IsReadable(input) && TensorMemory.IsReadable(parameters) && input.dtype == parameters.dtype
        && input.numel() * (long)FusedSpline.StateSize(bins) < int.MaxValue;

    private static FusionPlan Build(Bijector node, PlanKey key)
    {
        var description = (node as IFusableLayer)?.DescribeForKernels();
        var plan = description is ChainDescription chain ? Chain(node, chain, key) : Single(node, description, key);
        node.FusionCache.Store(plan);
        return plan;
    }

    private static FusionPlan Single(Bijector layer, LayerDescription? description, PlanKey key)
    {
        var plan = Leaf(layer, description, key);
        return new FusionPlan(key, new[] { plan }, blockByBlock: false, fusedPieces: false) { Composite = false, Cheap = description is FixedElementwiseDescription };
    }

    private static FusionPlan Chain(Bijector chain, ChainDescription description, PlanKey key)
    {
        var children = description.Layers.Select(layer => Plan(layer, key)).ToArray();
        // Block by block: two layers or more on [batch, features] rows, each a layer with a kernel for this dtype, no context
        // (a stage sees rows only) and both directions.
        bool blockable = key.On && key.Device == DeviceType.CPU && chain.EventShape.Count == 1 && children.Length >= 2
            && children.All(c => !c.Composite && c.Layers[0].Evaluates && !c.Layers[0].TakesContext && !c.Layers[0].InverseOnly);
        bool blockByBlock = blockable && !key.Gradients;
        // One autograd node for the whole chain: every layer trains through a stage (FusedLayers.TrainingStage), no context.
        bool trainable = key.Gradients && key.On && key.Device == DeviceType.CPU && chain.EventShape.Count == 1 && children.Length >= 2
            && children.All(c => !c.Composite && c.Layers[0] is { Trains: true, TakesContext: false, Description: CouplingDescription or LuLinearDescription or AutoregressiveDescription });
        bool forwardTrainable = trainable && !children.Any(c => c.Layers[0].Description is AutoregressiveDescription);
        var layers = new List<LayerPlan>();
        for (int i = 0; i < children.Length; i++)
        {
            string index = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var layer in children[i].Layers)
                layers.Add(layer with { Path = layer.Path.Length == 0 ? index : index + "." + layer.Path, InBlockChain = children[i].Composite ? layer.InBlockChain : blockByBlock });
        }
        bool cheap = children.All(c => c.Composite ? c.Cheap : c.Cheap || blockByBlock);
        bool anyBlock = blockByBlock || children.Any(c => c.AnyBlock);
        return new FusionPlan(key, layers, blockByBlock, cheap && anyBlock)
            { Composite = true, Cheap = cheap, AnyBlock = anyBlock, TrainsForwardAsOne = forwardTrainable, TrainsInverseAsOne = trainable };
    }

    private static LayerPlan Leaf(Bijector layer, LayerDescription? description, PlanKey key)
    {
        var plan = LeafOf(layer, description, key);
        if (plan.Evaluates) WarmUp(key.DType);
        return plan;
    }

    private static LayerPlan LeafOf(Bijector layer, LayerDescription? description, PlanKey key)
    {
        string name = layer.GetType().Name;
        bool kernels = key.On && key.Device == DeviceType.CPU && key.DType is ScalarType.Float32 or ScalarType.Float64;
        switch (description)
        {
            case CouplingDescription coupling when Coupling(coupling) is { } shape:
            {
                bool evaluates = kernels && TensorMemory.AllHold(coupling.Weights(), key.DType);
                return new LayerPlan("", name, shape.Operations, evaluates, evaluates && TrainsFused(shape), false) { Coupling = shape, Description = description };
            }
            case AutoregressiveDescription autoregressive when Autoregressive(autoregressive) is { } shape:
            {
                // The masked weights are made by the description: checked (and freed) here.
                using var scope = torch.NewDisposeScope();
                bool evaluates = kernels && TensorMemory.AllHold(autoregressive.Weights(), key.DType);
                // Trains in its density direction only (the sampling ranks have no backward pass: FusedLayers).
                return new LayerPlan("", name, shape.Operations, evaluates, evaluates && TrainsFused(shape), false)
                    { Coupling = shape, Ranks = AutoregressiveRanks(autoregressive, shape), Description = description };
            }
            case LuLinearDescription lu when lu.Features <= FusedLuLinear.MaximumFeatures:
            {
                bool evaluates = kernels && TensorMemory.AllHold(lu.Weights(), key.DType);
                return new LayerPlan("", name, LayerOperations.RowAffine, evaluates, evaluates, false) { Description = description };
            }
            case LeakyReluDescription leaky:
            {
                bool evaluates = kernels && TensorMemory.AllHold(leaky.Weights(), key.DType);
                return new LayerPlan("", name, LayerOperations.Elementwise, evaluates, evaluates, false) { Description = description };
            }
            default:
                return new LayerPlan("", name, LayerOperations.Operations, false, false, false) { Description = description };
        }
    }

    /// <summary>Compiles the evaluation kernels in the background the first time a layer that runs through one is planned
    /// (typically at the first training step), so that it overlaps with training (<see cref="KernelWarmUp"/>).</summary>
    private static void WarmUp(ScalarType dtype)
    {
        if (dtype == ScalarType.Float32) KernelWarmUp.Start<float>();
        else if (dtype == ScalarType.Float64) KernelWarmUp.Start<double>();
    }
}
