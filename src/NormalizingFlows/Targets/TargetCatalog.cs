using System;
using System.Collections.Generic;
using System.Linq;

namespace NormalizingFlows.Targets;

/// <summary>
/// Every built-in target by name, for command lines and configuration files (as <see cref="FlowCatalog"/> is for flows).
/// All are 2-D with a <see cref="ITarget.Bounds"/> box; all but <c>two-modes</c> have an exact normalised density and
/// an exact sampler.
/// </summary>
public static class TargetCatalog
{
    private static readonly TargetEntry[] Entries =
    {
        new("uniform-normal", "First tutorial: a ~ U[1, 2], b | a ~ N(a, a).", () => new UniformNormal()),
        new("banana", "x2 ~ N(0, 16), x1 | x2 ~ N(x2^2 / 4, 1).", () => new Banana()),
        new("two-moons", "Two interleaved half circles (radius 2) with Gaussian noise 0.2; density by quadrature.", () => new TwoMoons()),
        new("rings", "Four concentric rings (radii 0.75 to 3) with radial noise 0.1.", () => new Rings()),
        new("eight-gaussians", "Eight Gaussians (std 0.354) on a circle of radius 2.83.", () => new EightGaussians()),
        new("checkerboard", "Uniform on the 8 black squares of a 4 x 4 board on [-4, 4]^2.", () => new Checkerboard()),
        new("pinwheel", "Five Gaussian blobs twisted by a radius-dependent rotation.", () => new Pinwheel()),
        new("spirals", "Two interleaved spirals (1.5 turns, radius 3) with Gaussian noise 0.1; density by quadrature.", () => new Spirals()),
        new("circle-mixture", "Eight isotropic Gaussians (std 0.255) on a circle of radius 2.", () => new CircleMixture()),
        new("two-modes", "Unnormalised two-mode energy U1 (Rezende and Mohamed 2015) for variational fits; exact rejection sampler.", () => new TwoModes()),
    };

    /// <summary>All targets, in the order above (the tutorials' targets first).</summary>
    public static IReadOnlyList<TargetEntry> All => Entries;

    /// <summary>The names of all targets.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>The entry with this name (case-insensitive, surrounding spaces ignored).</summary>
    /// <exception cref="ArgumentException">No target has that name; the message lists the known names.</exception>
    public static TargetEntry Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Entries.FirstOrDefault(e => string.Equals(e.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown target '{name}'. Known targets: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>A new instance of the target with this name, with its default settings.</summary>
    /// <exception cref="ArgumentException">No target has that name; the message lists the known names.</exception>
    public static ITarget Create(string name) => Get(name).Create();
}
