using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Plotting.Internal;
using ScottPlot;
using TorchSharp;
using static TorchSharp.torch;
using Box = NormalizingFlows.Targets.Box;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>Colour groups the points of a trajectory are drawn in (enough to look continuous).</summary>
    private const int ColorGroups = 48;

    /// <summary>Most frames an animation gets when the frames between layers are chosen automatically.</summary>
    public const int MaxAnimationFrames = 48;

    /// <summary>Frames between layers an animation gets by default (fewer when it would exceed <see cref="MaxAnimationFrames"/>).</summary>
    public const int DefaultFramesBetweenLayers = 3;

    /// <summary>Fraction of points along each axis that a trajectory view may leave out on each side (far outliers).</summary>
    private const double TrajectoryTail = 0.005;

    /// <summary>
    /// The path of samples through every layer, in the sampling direction: a grid of panels, panel 0 the base points,
    /// then the output of each layer of the flow's <see cref="Chain"/> (the last panel is the data). Points are coloured by
    /// their base position so each can be followed. Each panel has its own limits by default, which shows every layer's
    /// shape; shared limits show how the scale changes instead.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="flow">A 2-D unconditional flow.</param>
    /// <param name="count">Points to push through; positive.</param>
    /// <param name="seed">Seed of the generator the base points are drawn with.</param>
    /// <param name="coloring">What the colour encodes.</param>
    /// <param name="sharedLimits">One set of axis limits for every panel instead of one per panel.</param>
    /// <param name="columns">Panels per row; 0 picks about the square root of the panel count.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels; null for square panels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The flow is not 2-D or is conditional, the count is not positive, or a size is out of range.</exception>
    public static string Trajectory(string path, Flow flow, int count = 2_000, long seed = 0,
        TrajectoryColoring coloring = TrajectoryColoring.Angle, bool sharedLimits = false, int columns = 0, int width = 1600, int? height = null)
    {
        Figure.CheckOutput(path, width, height ?? 1);
        ModelChecks.TwoDimensional(flow, nameof(flow));
        CheckCount(count);
        var (layers, titles) = Walk(flow, count, seed);
        return Trajectory(path, layers, titles, coloring, sharedLimits, columns, width, height);
    }

    /// <summary>
    /// The grid of <see cref="Trajectory(string, Flow, int, long, TrajectoryColoring, bool, int, int, int?)"/> from points
    /// already computed, e.g. by <see cref="Flow.Trajectory"/>: <c>layers[0]</c> the base points, then each layer's output,
    /// all <c>[n, 2]</c> with the same rows in the same order.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="layers">Points per stage, each <c>[n, 2]</c> (the same n); at least one.</param>
    /// <param name="titles">One title per stage; null for "layer 0 (base)" ... "layer K (data)".</param>
    /// <param name="coloring">What the colour encodes.</param>
    /// <param name="sharedLimits">One set of axis limits for every panel instead of one per panel.</param>
    /// <param name="columns">Panels per row; 0 picks about the square root of the panel count.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels; null for square panels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">No stages, stages of different shapes, titles that do not match, or a size is out of range.</exception>
    public static string Trajectory(string path, IReadOnlyList<Tensor> layers, IReadOnlyList<string>? titles = null,
        TrajectoryColoring coloring = TrajectoryColoring.Angle, bool sharedLimits = false, int columns = 0, int width = 1600, int? height = null)
    {
        Figure.CheckOutput(path, width, height ?? 1);
        var points = Stages(layers, nameof(layers));
        titles = Titles(titles, points.Length, nameof(titles));
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, $"Expected columns >= 0 (0 = automatic); got {columns}.");
        if (columns == 0) columns = (int)Math.Ceiling(Math.Sqrt(points.Length));
        columns = Math.Min(columns, points.Length);
        int rows = (points.Length + columns - 1) / columns;
        int imageHeight = height ?? Math.Min(Figure.MaxPixels, (int)Math.Round((double)width / columns * rows));
        Figure.CheckSize(width, imageHeight);

        var plots = TrajectoryPanels(points, titles, coloring, sharedLimits);
        return Figure.SavePng(Figure.Grid(plots, columns), path, width, imageHeight, palette: true);
    }

    /// <summary>The panels of a trajectory grid: the base points (axes <c>z</c>), then each layer's output (axes <c>x</c>).</summary>
    internal static Plot[] TrajectoryPanels((double[] X, double[] Y)[] points, IReadOnlyList<string> titles, TrajectoryColoring coloring, bool sharedLimits)
    {
        var colors = ColorKeys(points[0].X, points[0].Y, coloring);
        var shared = sharedLimits ? SharedBounds(points) : null;
        var plots = new Plot[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            plots[i] = TrajectoryFrame(points[i].X, points[i].Y, colors, coloring, shared ?? Panels.RobustBounds(points[i].X, points[i].Y, TrajectoryTail), titles[i], baseSpace: i == 0);
        }
        return plots;
    }

    /// <summary>
    /// The path of samples through every layer as an animated PNG (APNG; see the remarks of this package's encoder): one
    /// frame per stage (base, each layer's output), optionally with interpolated frames between stages so the points glide
    /// from one to the next. All frames share one set of axis limits; points are coloured by their base position. The
    /// animation loops forever and rests on each stage and longer on the last. The frames are 8-bit palette images sharing
    /// one palette of at most 256 colours (the points come in 48 colours), which keeps the file small.
    /// </summary>
    /// <param name="path">The file to write (an APNG: a <c>.png</c> that browsers animate).</param>
    /// <param name="flow">A 2-D unconditional flow.</param>
    /// <param name="count">Points to push through; positive.</param>
    /// <param name="seed">Seed of the generator the base points are drawn with.</param>
    /// <param name="framesBetweenLayers">Interpolated frames between consecutive stages, 0 to 30; null for
    /// <see cref="DefaultFramesBetweenLayers"/>, or fewer so that the animation has at most <see cref="MaxAnimationFrames"/>
    /// frames (none between stages for a flow of many layers).</param>
    /// <param name="layerMilliseconds">How long each stage's own frame shows.</param>
    /// <param name="stepMilliseconds">How long each interpolated frame shows.</param>
    /// <param name="coloring">What the colour encodes.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The flow is not 2-D or is conditional, a count, delay or size is out of range.</exception>
    public static string TrajectoryAnimation(string path, Flow flow, int count = 2_000, long seed = 0, int? framesBetweenLayers = null,
        int layerMilliseconds = 700, int stepMilliseconds = 80, TrajectoryColoring coloring = TrajectoryColoring.Angle,
        int width = 640, int height = 640)
    {
        Figure.CheckOutput(path, width, height);
        ModelChecks.TwoDimensional(flow, nameof(flow));
        CheckCount(count);
        var (layers, titles) = Walk(flow, count, seed);
        return TrajectoryAnimation(path, layers, titles, framesBetweenLayers, layerMilliseconds, stepMilliseconds, coloring, width, height);
    }

    /// <summary>
    /// The animation of <see cref="TrajectoryAnimation(string, Flow, int, long, int?, int, int, TrajectoryColoring, int, int)"/>
    /// from points already computed (<c>layers[0]</c> the base points, then each layer's output, all <c>[n, 2]</c>).
    /// The file has <c>layers.Count + (layers.Count - 1) * framesBetweenLayers</c> frames.
    /// </summary>
    /// <param name="path">The file to write (an APNG).</param>
    /// <param name="layers">Points per stage, each <c>[n, 2]</c> (the same n); at least one.</param>
    /// <param name="titles">One title per stage; null for "layer 0 (base)" ... "layer K (data)".</param>
    /// <param name="framesBetweenLayers">Interpolated frames between consecutive stages, 0 to 30; null for
    /// <see cref="DefaultFramesBetweenLayers"/>, or fewer so that the animation has at most <see cref="MaxAnimationFrames"/>
    /// frames.</param>
    /// <param name="layerMilliseconds">How long each stage's own frame shows; 1 to 30000.</param>
    /// <param name="stepMilliseconds">How long each interpolated frame shows; 1 to 30000.</param>
    /// <param name="coloring">What the colour encodes.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">No stages, stages of different shapes, titles that do not match, or a count, delay or size is out of range.</exception>
    public static string TrajectoryAnimation(string path, IReadOnlyList<Tensor> layers, IReadOnlyList<string>? titles = null,
        int? framesBetweenLayers = null, int layerMilliseconds = 700, int stepMilliseconds = 80,
        TrajectoryColoring coloring = TrajectoryColoring.Angle, int width = 640, int height = 640)
    {
        Figure.CheckOutput(path, width, height);
        var points = Stages(layers, nameof(layers));
        titles = Titles(titles, points.Length, nameof(titles));
        if (framesBetweenLayers is < 0 or > 30)
            throw new ArgumentOutOfRangeException(nameof(framesBetweenLayers), framesBetweenLayers, $"Expected framesBetweenLayers between 0 and 30; got {framesBetweenLayers}.");
        int between = framesBetweenLayers ?? AutomaticFramesBetween(points.Length);
        CheckDelay(layerMilliseconds, nameof(layerMilliseconds));
        CheckDelay(stepMilliseconds, nameof(stepMilliseconds));

        var colors = ColorKeys(points[0].X, points[0].Y, coloring);
        var bounds = SharedBounds(points);
        var frames = new List<byte[]>();
        var delays = new List<int>();
        void AddFrame(double[] x, double[] y, string title, int delay, bool baseSpace = false)
        {
            using var plot = TrajectoryFrame(x, y, colors, coloring, bounds, title, baseSpace);
            frames.Add(plot.GetImageBytes(width, height, ImageFormat.Png));
            delays.Add(delay);
        }
        for (int stage = 0; stage < points.Length; stage++)
        {
            bool last = stage == points.Length - 1;
            AddFrame(points[stage].X, points[stage].Y, titles[stage], last ? Math.Min(30_000, 3 * layerMilliseconds) : layerMilliseconds, baseSpace: stage == 0);
            if (last) break;
            for (int step = 1; step <= between; step++)
            {
                double t = (double)step / (between + 1);
                var (from, to) = (points[stage], points[stage + 1]);
                var x = new double[from.X.Length];
                var y = new double[from.X.Length];
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = from.X[i] + t * (to.X[i] - from.X[i]);
                    y[i] = from.Y[i] + t * (to.Y[i] - from.Y[i]);
                }
                AddFrame(x, y, $"{titles[stage]} \u2192 {stage + 1}", stepMilliseconds);
            }
        }
        return Figure.Write(path, AnimatedPng.Encode(PalettePng.Encode(frames), delays));
    }

    /// <summary>
    /// <see cref="DefaultFramesBetweenLayers"/>, or fewer so that <paramref name="stages"/> stages and the frames between them
    /// make at most <see cref="MaxAnimationFrames"/> frames (0 when the stages alone reach it).
    /// </summary>
    internal static int AutomaticFramesBetween(int stages) =>
        stages <= 1 ? 0 : Math.Clamp((MaxAnimationFrames - stages) / (stages - 1), 0, DefaultFramesBetweenLayers);

    /// <summary>Base points and every layer's output of <paramref name="flow"/> (in evaluation mode), with panel titles.</summary>
    private static (Tensor[] Layers, string[] Titles) Walk(Flow flow, int count, long seed)
    {
        using var mode = ModelMode.Evaluation(flow);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var z = flow.Base.Sample(count, generator: generator);
        var path = flow.Trajectory(z).Select(t => t.to(ScalarType.Float64).cpu()).ToArray();
        var names = flow.Bijector is Chain chain ? chain.Layers.Select(l => l.GetType().Name).ToArray() : new[] { flow.Bijector.GetType().Name };
        var titles = new string[path.Length];
        for (int i = 0; i < path.Length; i++)
        {
            string name = i == 0 ? "base" : i - 1 < names.Length ? names[i - 1] : "layer";
            titles[i] = i == path.Length - 1 && i > 0 ? $"{i}: {name} (data)" : $"{i}: {name}";
        }
        scope.MoveToOuter(path);
        return (path, titles);
    }

    /// <summary>One panel of a trajectory: the points in colour groups, over fixed bounds; axes <c>z</c> for the base points,
    /// <c>x</c> otherwise.</summary>
    private static Plot TrajectoryFrame(double[] x, double[] y, int[] group, TrajectoryColoring coloring, Box bounds, string title, bool baseSpace)
    {
        var plot = Figure.NewPlot();
        IColormap colormap = coloring == TrajectoryColoring.Angle ? new ScottPlot.Colormaps.Phase() : Panels.Density;
        var byGroup = new List<double>[ColorGroups, 2];
        for (int g = 0; g < ColorGroups; g++) (byGroup[g, 0], byGroup[g, 1]) = (new List<double>(), new List<double>());
        for (int i = 0; i < x.Length; i++)
        {
            byGroup[group[i], 0].Add(x[i]);
            byGroup[group[i], 1].Add(y[i]);
        }
        float size = PointStyle.Size(x.Length);
        for (int g = 0; g < ColorGroups; g++)
        {
            if (byGroup[g, 0].Count == 0) continue;
            var color = colormap.GetColor((g + 0.5) / ColorGroups).WithOpacity(0.85);
            plot.Add.Markers(byGroup[g, 0].ToArray(), byGroup[g, 1].ToArray(), MarkerShape.FilledCircle, size, color);
        }
        Panels.SetBounds(plot, bounds, baseSpace);
        plot.Title(title);
        return plot;
    }

    /// <summary>The colour group of every point, from its base position.</summary>
    private static int[] ColorKeys(double[] x, double[] y, TrajectoryColoring coloring)
    {
        var group = new int[x.Length];
        if (coloring == TrajectoryColoring.Angle)
        {
            for (int i = 0; i < x.Length; i++)
            {
                double fraction = (Math.Atan2(y[i], x[i]) + Math.PI) / (2 * Math.PI);
                group[i] = double.IsFinite(fraction) ? Math.Clamp((int)(fraction * ColorGroups), 0, ColorGroups - 1) : 0;
            }
        }
        else
        {
            var order = Enumerable.Range(0, x.Length).OrderBy(i => double.IsNaN(x[i]) ? double.NegativeInfinity : x[i]).ToArray();
            for (int rank = 0; rank < order.Length; rank++)
                group[order[rank]] = Math.Min(ColorGroups - 1, (int)((long)rank * ColorGroups / order.Length));
        }
        return group;
    }

    private static Box SharedBounds((double[] X, double[] Y)[] points)
    {
        double xLow = double.PositiveInfinity, xHigh = double.NegativeInfinity, yLow = double.PositiveInfinity, yHigh = double.NegativeInfinity;
        foreach (var (x, y) in points)
        {
            var b = Panels.RobustBounds(x, y, TrajectoryTail);
            xLow = Math.Min(xLow, b.XMin);
            xHigh = Math.Max(xHigh, b.XMax);
            yLow = Math.Min(yLow, b.YMin);
            yHigh = Math.Max(yHigh, b.YMax);
        }
        return new Box(xLow, xHigh, yLow, yHigh);
    }

    private static (double[] X, double[] Y)[] Stages(IReadOnlyList<Tensor> layers, string paramName)
    {
        ArgumentNullException.ThrowIfNull(layers, paramName);
        if (layers.Count == 0) throw new ArgumentException($"Expected at least one stage in {paramName}; got none.", paramName);
        var result = new (double[], double[])[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            var stage = layers[i];
            if (stage is null || stage.dim() != 2 || stage.size(1) != 2 || stage.size(0) == 0 || stage.size(0) != layers[0].size(0))
                throw new ArgumentException(
                    $"Expected {paramName}[{i}] with shape [{layers[0].size(0)}, 2] like {paramName}[0]; got {(stage is null ? "null" : $"[{string.Join(", ", stage.shape)}]")}.",
                    paramName);
            result[i] = ModelChecks.ToArrays(stage);
        }
        return result;
    }

    private static IReadOnlyList<string> Titles(IReadOnlyList<string>? titles, int stages, string paramName)
    {
        if (titles is null)
            return Enumerable.Range(0, stages).Select(i => i == 0 ? "layer 0 (base)" : i == stages - 1 ? $"layer {i} (data)" : $"layer {i}").ToArray();
        if (titles.Count != stages)
            throw new ArgumentException($"Expected one title per stage ({stages}) in {paramName}; got {titles.Count}.", paramName);
        return titles;
    }

    private static void CheckDelay(int milliseconds, string paramName)
    {
        if (milliseconds < 1 || milliseconds > 30_000)
            throw new ArgumentOutOfRangeException(paramName, milliseconds, $"Expected {paramName} between 1 and 30000; got {milliseconds}.");
    }
}
