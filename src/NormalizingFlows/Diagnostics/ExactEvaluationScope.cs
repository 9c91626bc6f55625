using System;
using System.Collections.Generic;
using System.Threading;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Diagnostics;

/// <summary>A scope from <see cref="ExactEvaluation.Enter"/>: the residual blocks it holds compute exact log-dets until it is
/// disposed (disposing twice is harmless).</summary>
public sealed class ExactEvaluationScope : IDisposable
{
    private readonly nn.Module model;
    private IReadOnlyList<ResidualBlock>? blocks;
    private IReadOnlyList<ContinuousFlow> flows = Array.Empty<ContinuousFlow>();

    internal ExactEvaluationScope(nn.Module model, IReadOnlyList<ResidualBlock> blocks, IReadOnlyList<ContinuousFlow>? flows = null)
    {
        this.model = model;
        foreach (var block in blocks) block.BeginExactEvaluation();
        this.blocks = blocks;
        if (flows is null) return;
        foreach (var flow in flows) flow.BeginExactEvaluation();
        this.flows = flows;
    }

    /// <summary>Whether the model's log-densities are exact now (none of its parts estimates); false for a model whose estimating
    /// parts are too wide for exact evaluation, and once the scope is disposed for a model that estimates.</summary>
    public bool IsExact => model switch
    {
        Distribution distribution => !distribution.LogProbIsEstimate,
        Bijector bijector => !bijector.LogDetIsEstimate,
        _ => !Internal.EstimateFlags.AnyPartEstimates(model),
    };

    /// <summary>Returns the blocks to the mode they had (unless another scope still holds them).</summary>
    public void Dispose()
    {
        var held = Interlocked.Exchange(ref blocks, null);
        if (held is null) return;
        foreach (var block in held) block.EndExactEvaluation();
        foreach (var flow in flows) flow.EndExactEvaluation();
    }
}
