using System.Collections.Generic;

namespace NormalizingFlows.Kernels;

/// <summary>
/// The planner's answer for one layer or one chain (<see cref="FusionPlanner"/>): per layer, nested chains walked, how it runs
/// (<see cref="Layers"/>); whether the chain runs block by block through all its layers (<see cref="BlockByBlock"/>); and the
/// evaluation piece policy (<see cref="FusedPieces"/>). Made once per <see cref="PlanKey"/> and kept by the module it is for
/// (<see cref="FusionCache"/>).
/// </summary>
internal sealed class FusionPlan
{
    internal FusionPlan(PlanKey key, IReadOnlyList<LayerPlan> layers, bool blockByBlock, bool fusedPieces)
    {
        Key = key;
        Layers = layers;
        BlockByBlock = blockByBlock;
        FusedPieces = fusedPieces;
    }

    /// <summary>What the plan holds for.</summary>
    public PlanKey Key { get; }

    /// <summary>Every layer in forward order, nested chains flattened (a layer planned on its own: itself).</summary>
    public IReadOnlyList<LayerPlan> Layers { get; }

    /// <summary>Whether the chain runs every row block through all its layers (<see cref="FusedChain"/>): two layers or more, each
    /// a layer with a row stage, gradients off, kernels on, CPU.</summary>
    public bool BlockByBlock { get; }

    /// <summary>Whether a flow on this bijector evaluates in the large pieces of <see cref="EvaluationPieces.FusedElements"/>
    /// values: every layer runs in a block chain (nested ones included) or is a fixed elementwise map (a standardisation), and
    /// at least one block chain runs. Such layers keep nothing per layer wider than the event.</summary>
    public bool FusedPieces { get; }

    /// <summary>The rows per evaluation piece this plan sets for events of <paramref name="eventSize"/> values
    /// (<see cref="EvaluationPieces.FusedElements"/> values each, at least <see cref="EvaluationPieces.MinimumRows"/> rows) where
    /// <see cref="FusedPieces"/>; null where the flow's automatic size (from its widest layer) applies.</summary>
    public long? PieceRows(long eventSize) =>
        FusedPieces ? System.Math.Max(EvaluationPieces.MinimumRows, EvaluationPieces.FusedElements / System.Math.Max(1, eventSize)) : null;

    /// <summary>Whether the chain trains as one autograd node in the direction <paramref name="inverse"/> says
    /// (<see cref="FusedChainTraining"/>): two layers or more on <c>[batch, features]</c> rows, gradients on, kernels on, CPU, each
    /// layer one that trains through its kernel without a context: a coupling, an LU layer, or (the inverse direction only) a
    /// masked autoregressive layer.</summary>
    public bool TrainsAsOne(bool inverse) => inverse ? TrainsInverseAsOne : TrainsForwardAsOne;

    /// <summary>Whether the chain's forward direction trains as one node (<see cref="TrainsAsOne"/>).</summary>
    internal bool TrainsForwardAsOne { get; init; }

    /// <summary>Whether the chain's inverse direction trains as one node (<see cref="TrainsAsOne"/>).</summary>
    internal bool TrainsInverseAsOne { get; init; }

    /// <summary>Whether the plan is a chain's (a layer planned on its own: false).</summary>
    internal bool Composite { get; init; }

    /// <summary>Whether every layer runs in a block chain or is a fixed elementwise map.</summary>
    internal bool Cheap { get; init; }

    /// <summary>Whether some chain of the plan runs block by block.</summary>
    internal bool AnyBlock { get; init; }
}
