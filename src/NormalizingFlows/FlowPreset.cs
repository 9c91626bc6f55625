using System;
using System.Collections.Generic;

namespace NormalizingFlows;

/// <summary>Settings common to every preset in <see cref="FlowCatalog"/>; null means the preset's own default.</summary>
/// <param name="Features">Number of dimensions of the data.</param>
/// <param name="ContextFeatures">Width of the context the flow is conditioned on; 0 for none (presets that cannot be conditioned reject a non-zero value).</param>
/// <param name="Layers">Number of layers or steps.</param>
/// <param name="HiddenFeatures">Hidden widths of each conditioner network.</param>
/// <param name="Seed">Seed for the initial weights and any random permutations.</param>
public sealed record PresetOptions(int Features, int ContextFeatures = 0, int? Layers = null, IReadOnlyList<int>? HiddenFeatures = null, long Seed = 0);

/// <summary>A named, ready-made flow architecture.</summary>
/// <param name="Name">Kebab-case name, as the command line spells it (e.g. <c>real-nvp</c>).</param>
/// <param name="Description">One line: what the flow is.</param>
/// <param name="HasDensity">Whether <see cref="Distribution.LogProb"/> works on arbitrary points (false for flows defined only in the sampling direction).</param>
/// <param name="Create">Builds an untrained flow.</param>
public sealed record FlowPreset(string Name, string Description, bool HasDensity, Func<PresetOptions, Flow> Create)
{
    /// <summary>How the flow is trained on data: maximum likelihood (the default) or flow matching.</summary>
    public FlowTraining Training { get; init; } = FlowTraining.MaximumLikelihood;
}
