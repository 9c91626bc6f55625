using System;
using System.Numerics;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// Runs one layer through its kernel as its plan says (<see cref="FusionPlanner"/>): what a layer's own call and a block chain's
/// stages go through. The only checks left here are the call's own facts (the input's shape and size, whether autograd tracks
/// it) and a guard that the weights still are where the plan found them (a move that bypassed the library's modules makes the
/// plan stale: then every plan is made again and this call takes the operations).
/// </summary>
internal static class FusedLayers
{
    /// <summary>The layer's output and log-det through its kernel, or null where the plan or this call leaves it to libtorch's
    /// operations. <paramref name="context"/>: the layer's context (already checked against its width, rows and placement), or
    /// null.</summary>
    public static (Tensor Output, Tensor LogAbsDet)? TryRun(Bijector layer, Tensor x, bool inverse, Tensor? context = null)
    {
        var plan = FusionPlanner.Plan(layer, x).Layers[0];
        if (!plan.Evaluates || (plan.InverseOnly && !inverse) || !TensorMemory.IsReadable(x)) return null;
        if (plan.TakesContext != (context is not null) || (context is not null && (context.dim() != 2 || !TensorMemory.Holds(context, x.dtype)))) return null;
        var weights = Current(plan, x.dtype);
        if (weights is null) return null;
        bool track = torch.is_grad_enabled() && (x.requires_grad || context is { requires_grad: true } || Array.Exists(weights, w => w.requires_grad));
        // A masked autoregressive layer trains through its density direction only (its sampling ranks have no backward pass).
        if (track && (!plan.Trains || (plan.Description is AutoregressiveDescription && !inverse))) return null;
        return plan.Description switch
        {
            CouplingDescription when x.dim() == 2 => FusedCoupling.Apply(plan.Coupling!, weights, x, context, inverse, track),
            AutoregressiveDescription when x.dim() == 2 && inverse => FusedCoupling.Apply(plan.Coupling!, weights, x, context, inverse, track),
            // The sampling direction runs its ranks as a one-stage block chain (with the rows' context where there is one).
            AutoregressiveDescription when x.dim() == 2 => FusedChain.ApplyLayer(plan, x, inverse, context),
            LuLinearDescription lu when x.dim() == 2 => FusedLuLinear.Apply(weights, lu.Order, x, inverse, track),
            LeakyReluDescription leaky => FusedLeakyRelu.Apply(weights[0], leaky.MinimumSlope, x, inverse, track),
            _ => null,
        };
    }

    /// <summary>The layer's map in one direction as a row stage of a block chain (<see cref="FusedChain"/>), its weights read now;
    /// null where they are no longer CPU tensors of <typeparamref name="T"/>.</summary>
    public static RowStage<T>? Stage<T>(LayerPlan plan, bool inverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = Current(plan, TensorMemory.TypeOf<T>());
        if (weights is null) return null;
        switch (plan.Description)
        {
            case CouplingDescription:
                return CouplingStage<T>.Create(plan.Coupling!, weights, inverse);
            case AutoregressiveDescription when inverse:
                return CouplingStage<T>.Create(plan.Coupling!, weights, inverse);
            case AutoregressiveDescription autoregressive when plan.Ranks is { } ranks:
                return AutoregressiveStage<T>.Create(plan.Coupling!, ranks, autoregressive.Layout, weights);
            case LuLinearDescription lu:
                return new LuLinearStage<T>(FusedLuLinear.Factor(weights[0], weights[1], weights[2], weights[3], lu.Order, inverse));
            case LeakyReluDescription leaky:
            {
                using var raw = weights[0].contiguous();
                var slopes = FusedLeakyRelu.Slopes<T>(TensorMemory.Span<T>(raw), leaky.MinimumSlope);
                return new LeakyReluStage<T>(slopes, inverse, leaky.Elements);
            }
            default:
                return null;
        }
    }

    /// <summary>The layer's map in one direction with its backward pass as a stage of a chain that trains as one autograd node
    /// (<see cref="FusedChainTraining"/>), from <paramref name="weights"/> (its current weights, CPU tensors of
    /// <typeparamref name="T"/>): a coupling, a masked autoregressive layer's density direction, an LU layer.</summary>
    public static TrainingStage<T> TrainingStage<T>(LayerPlan plan, Tensor[] weights, bool inverse) where T : unmanaged, IFloatingPointIeee754<T> =>
        plan.Description switch
        {
            CouplingDescription => new CouplingTrainingStage<T>(plan.Coupling!, FusedCoupling.Read<T>(plan.Coupling!, weights), inverse),
            AutoregressiveDescription when inverse => new CouplingTrainingStage<T>(plan.Coupling!, FusedCoupling.Read<T>(plan.Coupling!, weights), inverse),
            LuLinearDescription lu => new LuLinearTrainingStage<T>(FusedLuLinear.Factor(weights[0], weights[1], weights[2], weights[3], lu.Order, inverse), lu.Order, inverse),
            _ => throw new InvalidOperationException($"Layer {plan.Path} ({plan.Layer}) has no training stage in this direction."),
        };

    /// <summary>The layer's weights now, or null (every plan made stale) where one is not a CPU tensor of
    /// <paramref name="dtype"/>, as the plan found them.</summary>
    internal static Tensor[]? Current(LayerPlan plan, ScalarType dtype)
    {
        var weights = plan.Description!.Weights();
        if (TensorMemory.AllHold(weights, dtype)) return weights;
        PlacementCache.Invalidate();
        return null;
    }
}
