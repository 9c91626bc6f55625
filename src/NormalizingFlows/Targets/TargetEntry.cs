using System;

namespace NormalizingFlows.Targets;

/// <summary>A named target in <see cref="TargetCatalog"/>.</summary>
/// <param name="Name">Kebab-case name, as the command line spells it (e.g. <c>two-moons</c>); equals the created target's <see cref="ITarget.Name"/>.</param>
/// <param name="Description">One line: what the target is.</param>
/// <param name="Create">Builds the target with its default settings.</param>
public sealed record TargetEntry(string Name, string Description, Func<ITarget> Create);
