using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace NormalizingFlows;

/// <summary>
/// Every preset by name, for command lines and configuration files. Each family of flows adds its
/// entries in its own partial file (a private static <c>FlowPreset[]</c> field); they are listed in
/// alphabetical order of name.
/// </summary>
public static partial class FlowCatalog
{
    private static readonly Lazy<FlowPreset[]> Entries = new(() => typeof(FlowCatalog)
        .GetFields(BindingFlags.Static | BindingFlags.NonPublic)
        .Where(f => f.FieldType == typeof(FlowPreset[]))
        .SelectMany(f => (FlowPreset[])f.GetValue(null)!)
        .OrderBy(p => p.Name, StringComparer.Ordinal)
        .ToArray());

    /// <summary>All presets, by name.</summary>
    public static IReadOnlyList<FlowPreset> All => Entries.Value;

    /// <summary>The preset with this name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No preset has that name; the message lists the known names.</exception>
    public static FlowPreset Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown flow '{name}'. Known flows: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));
    }

    private static void NoContext(PresetOptions options, string name)
    {
        if (options.ContextFeatures != 0)
            throw new ArgumentException($"The {name} preset cannot be conditioned on a context; got ContextFeatures = {options.ContextFeatures}.", nameof(options));
    }

    private static readonly FlowPreset[] CouplingPresets =
    {
        new("lu-coupling", "First tutorial: steps of [affine coupling (MLP) + LU linear with a random permutation], standard normal base.", true,
            o => { NoContext(o, "lu-coupling"); return Flows.LuCoupling(o.Features, o.Layers ?? 16, o.HiddenFeatures, o.Seed); }),
        new("real-nvp", "RealNVP: affine couplings with alternating masks and separate shift and log-scale MLPs (log-scales soft-clamped to +-4).", true,
            o => { NoContext(o, "real-nvp"); return Flows.RealNvp(o.Features, o.Layers ?? 8, o.HiddenFeatures, o.Seed); }),
    };
}
