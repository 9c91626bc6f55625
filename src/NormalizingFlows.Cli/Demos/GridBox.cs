namespace NormalizingFlows.Cli.Demos;

/// <summary>The rectangle <c>[XMin, XMax] x [YMin, YMax]</c> over which the grid integral of q is taken, and its grid size.</summary>
/// <param name="XMin">Lower bound of the first coordinate.</param>
/// <param name="XMax">Upper bound of the first coordinate.</param>
/// <param name="YMin">Lower bound of the second coordinate.</param>
/// <param name="YMax">Upper bound of the second coordinate.</param>
/// <param name="Steps">Midpoints per axis.</param>
internal sealed record GridBox(double XMin, double XMax, double YMin, double YMax, int Steps);
