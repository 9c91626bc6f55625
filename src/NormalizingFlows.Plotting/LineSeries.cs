using System;
using System.Collections.Generic;

namespace NormalizingFlows.Plotting;

/// <summary>One named line of a <see cref="LinePanel"/>: points <c>(X[i], Y[i])</c> joined in order.</summary>
/// <param name="Name">The legend entry.</param>
/// <param name="X">Horizontal positions.</param>
/// <param name="Y">Vertical positions, one per <paramref name="X"/>.</param>
public sealed record LineSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>One panel of <see cref="Plots.Lines"/>: a title, axis labels, the lines, and whether each axis is logarithmic.</summary>
/// <param name="Title">The panel's title.</param>
/// <param name="XLabel">The horizontal axis label.</param>
/// <param name="YLabel">The vertical axis label.</param>
/// <param name="Series">The lines; at least one.</param>
/// <param name="LogX">Logarithmic horizontal axis (every x must then be positive).</param>
/// <param name="LogY">Logarithmic vertical axis (every y must then be positive).</param>
public sealed record LinePanel(string Title, string XLabel, string YLabel, IReadOnlyList<LineSeries> Series, bool LogX = false, bool LogY = false);
