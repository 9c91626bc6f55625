using System;
using System.Collections.Generic;
using NormalizingFlows.Conditioners;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>What a conditioner network tells the planner (<see cref="IFusableNetwork"/>): <see cref="Parts"/> networks side by side,
/// each <c>InFeatures (+ ContextFeatures) -&gt; Hidden... -&gt; PartOutFeatures</c> with <see cref="Activation"/> between layers,
/// network <c>p</c>'s output <c>j</c> being raw output <c>j * Parts + p</c>.</summary>
/// <param name="InFeatures">Input width of each network, without the context.</param>
/// <param name="Hidden">Hidden widths.</param>
/// <param name="PartOutFeatures">Output width of each network.</param>
/// <param name="Parts">Networks side by side (1 for one network).</param>
/// <param name="ContextFeatures">Context width appended to the input.</param>
/// <param name="Activation">The hidden activation.</param>
/// <param name="Weights">The current weight and bias of every layer, input first (<c>[out, in]</c> and <c>[out]</c>, or
/// <c>[parts, out, in]</c> and <c>[parts, out]</c> for networks side by side).</param>
internal sealed record NetworkDescription(int InFeatures, IReadOnlyList<int> Hidden, int PartOutFeatures, int Parts, int ContextFeatures,
    Activation Activation, Func<Tensor[]> Weights);
