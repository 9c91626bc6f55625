using System;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Plotting.Internal;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Plotting;

/// <summary>
/// A density evaluated at the midpoints of a <see cref="Steps"/> x <see cref="Steps"/> grid over a rectangle: what the
/// density plots draw and what marginals integrate. Row 0 is the bottom row (<c>YMin</c>), column 0 the left column
/// (<c>XMin</c>), the same order as <see cref="Metrics.Grid"/>.
/// </summary>
public sealed class DensityGrid
{
    /// <summary>Default number of cells along each axis for density plots.</summary>
    public const int DefaultSteps = 200;

    /// <summary>Rows of the grid evaluated per model call.</summary>
    private const long ChunkRows = 16_384;

    private readonly double[,] values;

    private DensityGrid(Box bounds, int steps, double[,] values, bool isNormalized)
    {
        Bounds = bounds;
        Steps = steps;
        this.values = values;
        IsNormalized = isNormalized;
        double max = 0;
        foreach (double v in values)
            if (v > max) max = v;
        Max = max;
    }

    /// <summary>The rectangle the grid covers.</summary>
    public Box Bounds { get; }

    /// <summary>Cells along each axis.</summary>
    public int Steps { get; }

    /// <summary>
    /// Whether the values are a normalised density. False for an unnormalised target: the values are then
    /// <c>exp(logDensity - max logDensity)</c> over the grid (the largest is 1).
    /// </summary>
    public bool IsNormalized { get; }

    /// <summary>The largest value (0 when every value is 0 or NaN).</summary>
    public double Max { get; }

    /// <summary>Width of one cell.</summary>
    public double CellWidth => Bounds.Width / Steps;

    /// <summary>Height of one cell.</summary>
    public double CellHeight => Bounds.Height / Steps;

    /// <summary>The density at the midpoint of the cell in row <paramref name="row"/> (from the bottom) and column <paramref name="column"/>.</summary>
    public double this[int row, int column] => values[row, column];

    /// <summary>First coordinate of the midpoints of column <paramref name="column"/>.</summary>
    public double X(int column) => Bounds.XMin + (column + 0.5) * CellWidth;

    /// <summary>Second coordinate of the midpoints of row <paramref name="row"/>.</summary>
    public double Y(int row) => Bounds.YMin + (row + 0.5) * CellHeight;

    /// <summary>A copy of the values, indexed <c>[row, column]</c> with row 0 at the bottom.</summary>
    public double[,] ToArray() => (double[,])values.Clone();

    /// <summary>The midpoint-rule integral over the rectangle (close to 1 for a normalised density that the rectangle holds).</summary>
    public double Integral()
    {
        double sum = 0;
        foreach (double v in values)
            if (double.IsFinite(v)) sum += v;
        return sum * CellWidth * CellHeight;
    }

    /// <summary>
    /// The marginal density of the first coordinate (<paramref name="axis"/> 0) or the second (1) at the column or row
    /// midpoints: the grid integrated over the other axis by the midpoint rule.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is not 0 or 1.</exception>
    public double[] Marginal(int axis)
    {
        if (axis is not (0 or 1))
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Expected axis 0 (first coordinate) or 1 (second); got {axis}.");
        var marginal = new double[Steps];
        for (int row = 0; row < Steps; row++)
            for (int column = 0; column < Steps; column++)
            {
                double v = values[row, column];
                if (!double.IsFinite(v)) continue;
                if (axis == 0) marginal[column] += v * CellHeight;
                else marginal[row] += v * CellWidth;
            }
        return marginal;
    }

    /// <summary>
    /// Evaluates <c>q(x) = exp(log q(x))</c> of a 2-D <paramref name="model"/> on the grid: without gradients, in chunks,
    /// with the model temporarily in evaluation mode (so BatchNorm, ActNorm and the like do not change; every module's
    /// mode is restored afterwards).
    /// </summary>
    /// <param name="model">An unconditional model with event shape <c>[2]</c>.</param>
    /// <param name="bounds">The rectangle to cover.</param>
    /// <param name="steps">Cells along each axis; 1 to 4096.</param>
    /// <exception cref="ArgumentException">The model is not 2-D or is conditional, or <paramref name="steps"/> is out of range.</exception>
    public static DensityGrid Evaluate(Distribution model, Box bounds, int steps = DefaultSteps)
    {
        ModelChecks.TwoDimensional(model, nameof(model));
        ArgumentNullException.ThrowIfNull(bounds);
        CheckSteps(steps);
        var (dtype, device) = ModelChecks.Placement(model);
        using var mode = ModelMode.Evaluation(model);
        var logValues = LogValues(bounds, steps, dtype, device, x => model.LogProb(x));
        return FromLog(bounds, steps, logValues, normalized: true);
    }

    /// <summary>
    /// Evaluates a 2-D <paramref name="target"/>'s density on the grid (in float64). A normalised target gives
    /// <c>exp(logDensity)</c>; an unnormalised one gives <c>exp(logDensity - max)</c> (largest value 1) and
    /// <see cref="IsNormalized"/> false.
    /// </summary>
    /// <param name="target">A target with 2 features.</param>
    /// <param name="bounds">The rectangle to cover; null for the target's own <see cref="ITarget.Bounds"/>.</param>
    /// <param name="steps">Cells along each axis; 1 to 4096.</param>
    /// <exception cref="ArgumentException">The target is not 2-D, or <paramref name="steps"/> is out of range.</exception>
    public static DensityGrid Evaluate(ITarget target, Box? bounds = null, int steps = DefaultSteps)
    {
        ModelChecks.TwoDimensional(target, nameof(target));
        CheckSteps(steps);
        bounds ??= target.Bounds;
        var logValues = LogValues(bounds, steps, ScalarType.Float64, torch.CPU, target.LogDensity);
        return FromLog(bounds, steps, logValues, target.IsNormalized);
    }

    /// <summary>Creates a grid from values indexed <c>[row, column]</c>, row 0 at the bottom (copied).</summary>
    /// <param name="bounds">The rectangle the values cover.</param>
    /// <param name="values">A square array of densities; its side is <see cref="Steps"/>.</param>
    /// <param name="isNormalized">Whether the values are a normalised density.</param>
    /// <exception cref="ArgumentException">The array is empty or not square.</exception>
    public static DensityGrid FromValues(Box bounds, double[,] values, bool isNormalized = true)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rows == 0 || rows != columns)
            throw new ArgumentException($"Expected values with shape [steps, steps] and steps > 0; got [{rows}, {columns}].", nameof(values));
        return new DensityGrid(bounds, rows, (double[,])values.Clone(), isNormalized);
    }

    /// <summary><c>this - other</c> cell by cell (both grids must cover the same rectangle with the same steps).</summary>
    internal double[,] Minus(DensityGrid other)
    {
        if (other.Steps != Steps || other.Bounds != Bounds)
            throw new ArgumentException($"Expected a grid over {Bounds} with {Steps} steps; got {other.Bounds} with {other.Steps}.", nameof(other));
        var difference = new double[Steps, Steps];
        for (int row = 0; row < Steps; row++)
            for (int column = 0; column < Steps; column++)
                difference[row, column] = values[row, column] - other.values[row, column];
        return difference;
    }

    private static void CheckSteps(int steps)
    {
        if (steps < 1 || steps > 4096)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Expected steps between 1 and 4096; got {steps}.");
    }

    private static double[] LogValues(Box bounds, int steps, ScalarType dtype, Device device, Func<Tensor, Tensor> logDensity)
    {
        var result = new double[(long)steps * steps];
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var grid = Metrics.Grid(bounds.XMin, bounds.XMax, bounds.YMin, bounds.YMax, steps, dtype, device);
        long rows = grid.size(0);
        for (long start = 0; start < rows; start += ChunkRows)
        {
            using var chunkScope = torch.NewDisposeScope();
            long count = Math.Min(ChunkRows, rows - start);
            var logChunk = logDensity(grid.narrow(0, start, count)).to(ScalarType.Float64).cpu().contiguous();
            logChunk.data<double>().CopyTo(result, (int)start);
        }
        return result;
    }

    private static DensityGrid FromLog(Box bounds, int steps, double[] logValues, bool normalized)
    {
        double shift = 0;
        if (!normalized)
        {
            shift = double.NegativeInfinity;
            foreach (double v in logValues)
                if (v > shift && !double.IsPositiveInfinity(v)) shift = v;
            if (double.IsNegativeInfinity(shift)) shift = 0;
        }
        var values = new double[steps, steps];
        for (int row = 0; row < steps; row++)
            for (int column = 0; column < steps; column++)
                values[row, column] = Math.Exp(logValues[(long)row * steps + column] - shift);
        return new DensityGrid(bounds, steps, values, normalized);
    }
}
