using System.Collections.Generic;
using System.IO;
using NormalizingFlows.Plotting;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;

namespace NormalizingFlows.Cli.Demos;

/// <summary>The pictures of a demo run, as the source tutorials show them, each written as a PNG in the run folder.</summary>
internal static class DemoFigures
{
    /// <summary>The iterations at which the learned density is recorded during training: the start, then 10 %, 25 %, 50 % and the end.</summary>
    public static IReadOnlyList<int> SnapshotIterations(int iterations) =>
        new[] { 0, iterations / 10, iterations / 4, iterations / 2, iterations };

    /// <summary>Writes every figure and returns the files with their captions, in the order the report shows them;
    /// <paramref name="gridSteps"/> (null for the defaults) sets the points per axis of the density and marginal grids.</summary>
    public static IReadOnlyList<(string Path, string Caption)> Write(string directory, ITarget target, Flow flow, FitResult fit,
        DensitySnapshots snapshots, long seed, bool flowMatching = false, int? gridSteps = null)
    {
        string P(string name) => Path.Combine(directory, name);
        var box = target.Bounds;
        return new List<(string, string)>
        {
            (Plots.Samples(P("target-samples.png"), target, 5_000, seed + 2, box), "5 000 samples of the target."),
            (Plots.Densities(P("densities.png"), target, flow, box, gridSteps ?? DemoSettings.DefaultDensitySteps), "The exact target density p, the learned density q on the same colour scale, and q - p (each colour bar says whether its scale is linear, clipped at the 99th percentile or logarithmic)."),
            flowMatching
                ? (Plots.TrainingCurve(P("training.png"), fit.Losses, null, smoothingWindow: 25, unit: "squared velocity error per sample"), "The flow-matching loss (mean squared error of the velocity against x1 - x0 on each batch's straight paths) at every step, and its moving average.")
                : (Plots.TrainingCurve(P("training.png"), fit.Losses, null, smoothingWindow: 25, unit: "nats per sample"), "The loss (mean negative log-likelihood of each batch, in nats per sample) at every step, and its moving average."),
            (snapshots.Save(P("snapshots.png")), "The learned density during training (each panel on its own colour scale)."),
            (Plots.Marginals(P("marginals.png"), target, flow, box, gridSteps ?? DemoSettings.DefaultMarginalSteps), "1-D marginals: the true ones (numerically integrated) against the learned ones."),
            (Plots.SamplesOverTarget(P("samples.png"), flow, target, 2_000, seed + 3, box), "Samples of the flow over samples of the target."),
            (Plots.Trajectory(P("trajectory.png"), flow, 2_000, seed + 4), "Base samples z pushed through every layer (sampling direction) to x, coloured by their angle in the base."),
            (Plots.TrajectoryAnimation(P("trajectory.apng.png"), flow, 1_000, seed + 4), "The same path as an animation (animated PNG, 256 colours, at most 48 frames)."),
        };
    }
}
