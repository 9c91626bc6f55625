namespace NormalizingFlows.Plotting;

/// <summary>
/// Pictures of 2-D flows and their training, each written as a PNG file of a requested size: target samples, learned
/// against exact densities, training curves, marginals, samples over the target, and the path of samples through every
/// layer (also as an animation). Each method returns the full path of the file it wrote, creating its folder.
/// </summary>
/// <remarks>
/// <para>Inputs are plain data or library types. Models must be unconditional with event shape <c>[2]</c>; densities are
/// evaluated without gradients, in chunks, with the model temporarily in evaluation mode (see <see cref="DensityGrid"/>).
/// Densities use the perceptually uniform viridis colour map; differences a diverging map centred on zero.</para>
/// <para>Text is drawn with an embedded font (DejaVu Sans), so plots are legible on machines without system fonts.</para>
/// <para>Bad arguments throw <see cref="System.ArgumentException"/> (or a subclass) naming the argument before any file is
/// written: a non-2-D model or target, an empty input, a width or height outside 1..16384.</para>
/// </remarks>
/// <example>
/// <code>
/// var target = new Banana();
/// using var flow = Flows.RealNvp(features: 2, layers: 8, seed: 0);
/// var snapshots = new DensitySnapshots(flow, target.Bounds, new[] { 0, 100, 500, 2000 });
/// var fit = Fit.ToData(flow, target, new FitOptions { Iterations = 2000 }, snapshots);
/// Plots.TrainingCurve("run/loss.png", fit.Losses);
/// Plots.Densities("run/densities.png", target, flow);           // p, q and q - p
/// Plots.Marginals("run/marginals.png", target, flow);
/// Plots.SamplesOverTarget("run/samples.png", flow, target);
/// Plots.TrajectoryAnimation("run/layers.png", flow);            // animated PNG, one frame per layer
/// snapshots.Save("run/snapshots.png");
/// </code>
/// </example>
public static partial class Plots
{
}
