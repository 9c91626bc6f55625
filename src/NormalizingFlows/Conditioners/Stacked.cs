using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Conditioners;

/// <summary>
/// Several conditioners, one per transform parameter, whose outputs are interleaved per feature: with
/// parts <c>[shiftNet, scaleNet]</c> the output is <c>[shift_1, logScale_1, shift_2, logScale_2, ...]</c>,
/// the layout an <see cref="IElementwiseTransform"/> expects. This is RealNVP's "separate scale and
/// shift networks".
/// </summary>
public sealed partial class Stacked : Conditioner
{
    private readonly ModuleList<Conditioner> parts;

    /// <summary>Stacks conditioners that share input and context widths and have equal output widths.</summary>
    /// <exception cref="ArgumentException">The parts' widths disagree, or there are none.</exception>
    public Stacked(params Conditioner[] parts)
        : base(nameof(Stacked), Check(parts).InFeatures, parts[0].OutFeatures * parts.Length, parts[0].ContextFeatures)
    {
        this.parts = nn.ModuleList(parts);
        RegisterComponents();
    }

    /// <summary>The stacked conditioners, one per transform parameter.</summary>
    public IReadOnlyList<Conditioner> Parts => new System.Collections.ObjectModel.ReadOnlyCollection<Conditioner>(parts);

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor? context)
    {
        var outputs = new Tensor[parts.Count];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = parts[i].call(x, context);
        return torch.stack(outputs, 2).flatten(1);
    }

    private static Conditioner Check(Conditioner[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0) throw new ArgumentException("Stacked needs at least one conditioner; got none.", nameof(parts));
        var first = parts[0] ?? throw new ArgumentException("Part 0 is null.", nameof(parts));
        for (int i = 1; i < parts.Length; i++)
        {
            var p = parts[i] ?? throw new ArgumentException($"Part {i} is null.", nameof(parts));
            if (p.InFeatures != first.InFeatures || p.OutFeatures != first.OutFeatures || p.ContextFeatures != first.ContextFeatures)
                throw new ArgumentException(
                    $"Part {i} maps {p.InFeatures} (+{p.ContextFeatures} context) -> {p.OutFeatures} but part 0 maps {first.InFeatures} (+{first.ContextFeatures} context) -> {first.OutFeatures}; all parts must match.",
                    nameof(parts));
        }
        return first;
    }
}
