using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Training;
using ScottPlot;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting;

/// <summary>
/// Records the learned density <c>q</c> on a coarse grid at chosen iterations of a fit, and draws the records as a grid of
/// panels: how the flow finds the target. Pass it as the progress of a fit (<c>Fit.ToData(model, target, options,
/// progress: snapshots)</c>); it forwards every report to an optional inner progress, so a progress bar keeps working.
/// </summary>
/// <remarks>
/// <para>A fit reports every <see cref="FitOptions.ProgressInterval"/> steps (and at the last step), synchronously on the
/// training thread. A requested iteration is recorded at the first report at or after it, under the reported iteration
/// (requests 5 and 7 with reports every 10 steps give one record, at 10). Iteration 0, the untrained model, is recorded when
/// the recorder is created if requested; <see cref="Record"/> records on demand. Each record evaluates the grid without
/// gradients with the model in evaluation mode, then restores its mode, so training is not disturbed.</para>
/// <para>Panels use one colour scale each by default: an untrained model spreads its mass thinly and would be invisible on
/// the scale of a sharp learned density. <see cref="Save"/> can share one scale instead.</para>
/// </remarks>
public sealed class DensitySnapshots : IProgress<TrainingProgress>
{
    /// <summary>Default grid cells along each axis: coarse, so that a record costs little next to training.</summary>
    public const int DefaultSteps = 100;

    private readonly object gate = new();
    private readonly Distribution model;
    private readonly IProgress<TrainingProgress>? inner;
    private readonly int[] requested;
    private readonly List<DensitySnapshot> snapshots = new();
    private int next;

    /// <summary>Creates a recorder for <paramref name="model"/>; records iteration 0 now if it is requested.</summary>
    /// <param name="model">The 2-D model being trained (unconditional).</param>
    /// <param name="bounds">The rectangle the grid covers.</param>
    /// <param name="iterations">Iterations to record at, each 0 or more; at least one.</param>
    /// <param name="steps">Grid cells along each axis; 1 to 4096.</param>
    /// <param name="inner">A progress that receives every report after this one; may be null.</param>
    /// <exception cref="ArgumentException">The model is not 2-D or is conditional, no iteration or a negative one, or steps out of range.</exception>
    public DensitySnapshots(Distribution model, Box bounds, IEnumerable<int> iterations, int steps = DefaultSteps,
        IProgress<TrainingProgress>? inner = null)
    {
        ModelChecks.TwoDimensional(model, nameof(model));
        ArgumentNullException.ThrowIfNull(bounds);
        ArgumentNullException.ThrowIfNull(iterations);
        if (steps < 1 || steps > 4096)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Expected steps between 1 and 4096; got {steps}.");
        requested = iterations.Distinct().Order().ToArray();
        if (requested.Length == 0)
            throw new ArgumentException("Expected at least one iteration in iterations; got none.", nameof(iterations));
        if (requested[0] < 0)
            throw new ArgumentException($"Expected iterations of 0 or more; got {requested[0]}.", nameof(iterations));
        this.model = model;
        this.inner = inner;
        Bounds = bounds;
        Steps = steps;
        if (requested[0] == 0)
        {
            Record(0);
            next = 1;
        }
    }

    /// <summary>The rectangle the grid covers.</summary>
    public Box Bounds { get; }

    /// <summary>Grid cells along each axis.</summary>
    public int Steps { get; }

    /// <summary>The requested iterations, sorted, without repeats.</summary>
    public IReadOnlyList<int> RequestedIterations => requested;

    /// <summary>The records so far, in the order they were made (a copy).</summary>
    public IReadOnlyList<DensitySnapshot> Snapshots
    {
        get
        {
            lock (gate) return snapshots.ToArray();
        }
    }

    /// <summary>Records the model if a requested iteration has been reached, then forwards the report to the inner progress.</summary>
    /// <param name="value">The fit's report.</param>
    public void Report(TrainingProgress value)
    {
        bool due = false;
        lock (gate)
        {
            while (next < requested.Length && requested[next] <= value.Iteration)
            {
                next++;
                due = true;
            }
        }
        if (due) Record(value.Iteration);
        inner?.Report(value);
    }

    /// <summary>Records the model's density now, under <paramref name="iteration"/> (e.g. the final model after a fit).</summary>
    /// <param name="iteration">The iteration to label the record with; 0 or more.</param>
    /// <returns>The record.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iteration"/> is negative.</exception>
    public DensitySnapshot Record(int iteration)
    {
        if (iteration < 0)
            throw new ArgumentOutOfRangeException(nameof(iteration), iteration, $"Expected an iteration of 0 or more; got {iteration}.");
        var snapshot = new DensitySnapshot(iteration, DensityGrid.Evaluate(model, Bounds, Steps));
        lock (gate) snapshots.Add(snapshot);
        return snapshot;
    }

    /// <summary>Draws every record as a panel titled with its iteration, in iteration order, each with a colour bar.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="sharedScale">One colour scale for all panels instead of one per panel. Either way the scale (linear, clipped
    /// at the 99th percentile, or log density) is chosen from the values and named on the colour bar.</param>
    /// <param name="columns">Panels per row; 0 for up to 4.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels; null for panels about 4:3 (wide for the colour bar).</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="InvalidOperationException">Nothing has been recorded yet.</exception>
    /// <exception cref="ArgumentException">A size or the column count is out of range.</exception>
    public string Save(string path, bool sharedScale = false, int columns = 0, int width = 1600, int? height = null)
    {
        Figure.CheckOutput(path, width, height ?? 1);
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, $"Expected columns >= 0 (0 = automatic); got {columns}.");
        var records = Snapshots.OrderBy(s => s.Iteration).ToArray();
        if (records.Length == 0)
            throw new InvalidOperationException("No density has been recorded yet: pass this object as the fit's progress, or call Record.");
        if (columns == 0) columns = Math.Min(4, records.Length);
        columns = Math.Min(columns, records.Length);
        int rows = (records.Length + columns - 1) / columns;
        int imageHeight = height ?? Math.Min(Figure.MaxPixels, (int)Math.Round(width / (double)columns * 0.8 * rows));
        Figure.CheckSize(width, imageHeight);
        var values = records.Select(r => r.Density.ToArray()).ToArray();
        var shared = sharedScale ? ColorScale.Choose("density q(x)", null, values) : null;
        var plots = new Plot[records.Length];
        for (int i = 0; i < records.Length; i++)
        {
            var grid = records[i].Density;
            var plot = Figure.NewPlot();
            Panels.AddHeatmap(plot, values[i], grid.Bounds, Panels.Density, shared ?? ColorScale.Choose("density q(x)", null, values[i]));
            plot.Title(records[i].Iteration == 0 ? "iteration 0 (untrained)" : $"iteration {records[i].Iteration:N0}");
            plots[i] = plot;
        }
        return Figure.SavePng(Figure.Grid(plots, columns), path, width, imageHeight);
    }
}
