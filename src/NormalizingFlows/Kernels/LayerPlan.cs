using System;
using System.Collections.Generic;

namespace NormalizingFlows.Kernels;

/// <summary>How a layer's arithmetic runs.</summary>
internal enum LayerOperations
{
    /// <summary>libtorch's operations, one per step (the reference path; every device and dtype).</summary>
    Operations,
    /// <summary>A coupling whose network runs column by column (<see cref="CouplingKernel{T}"/>; every layer at most
    /// <see cref="Runtime.FusedKernels.MaximumWidth"/> wide).</summary>
    Columns,
    /// <summary>A coupling whose network keeps its hidden layers row by row, its products on the BLAS that libtorch links.</summary>
    Blas,
    /// <summary>A coupling whose network runs as register tiles (<see cref="TiledNetwork{T}"/>).</summary>
    Tiles,
    /// <summary>One affine map per row (<see cref="FusedLuLinear"/>).</summary>
    RowAffine,
    /// <summary>An elementwise kernel (<see cref="FusedLeakyRelu"/>).</summary>
    Elementwise,
}

/// <summary>
/// The planner's decision for one layer (<see cref="FusionPlanner"/>), for one dtype, device, gradient mode and kernel switch.
/// </summary>
/// <param name="Path">Where the layer sits: its index in its chain, nested chains joined by dots (<c>"0.3"</c>); empty for a layer
/// planned on its own.</param>
/// <param name="Layer">The layer's type name.</param>
/// <param name="Operations">How its arithmetic runs when it runs fused; <see cref="LayerOperations.Operations"/> where it never
/// does.</param>
/// <param name="Evaluates">Whether it runs its kernel when no autograd graph is needed (no gradients, or nothing requires them).</param>
/// <param name="Trains">Whether it runs its kernel as one autograd node when gradients are tracked.</param>
/// <param name="InBlockChain">Whether, in this mode, it runs as a stage of its chain, block of rows by block of rows
/// (<see cref="FusedChain"/>).</param>
internal sealed record LayerPlan(string Path, string Layer, LayerOperations Operations, bool Evaluates, bool Trains, bool InBlockChain)
{
    /// <summary>A coupling's shape (fused columns, widths, products), where <see cref="Operations"/> is a coupling's.</summary>
    public CouplingPlan? Coupling { get; init; }

    /// <summary>Whether its kernel reads a context beside the rows (a conditional coupling): it then never runs as a stage of a
    /// block chain.</summary>
    public bool TakesContext => Coupling is { ContextFeatures: > 0 };

    /// <summary>A masked autoregressive layer's sampling direction: one coupling plan per rank, run in rank order in place
    /// (<see cref="FusionPlanner.AutoregressiveRanks"/>; <see cref="Coupling"/> is its density direction); null for other
    /// layers.</summary>
    public IReadOnlyList<CouplingPlan>? Ranks { get; init; }

    /// <summary>Whether its kernel computes only the inverse (a masked autoregressive layer whose sampling direction has no
    /// plan): it then never runs as a stage of a block chain.</summary>
    public bool InverseOnly => Coupling is not null && Description is AutoregressiveDescription && Ranks is null;

    /// <summary>What the layer told the planner (its weights are read from it at each call); null for a layer that describes
    /// nothing.</summary>
    public LayerDescription? Description { get; init; }

    /// <summary>The columns the fused coupling moves (empty for other layers).</summary>
    public int[] FusedColumns => Coupling?.Moved ?? Array.Empty<int>();

    /// <summary>Whether its network runs as register tiles.</summary>
    public bool Tiles => Operations == LayerOperations.Tiles;

    /// <summary>Whether its products go to the BLAS.</summary>
    public bool Blas => Operations == LayerOperations.Blas;
}
