using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Data;

/// <summary>
/// Columns of tabular data that hold few distinct values (counts, indicators, rounded measurements): finding them and uniformly
/// dequantising the integer-valued ones.
/// </summary>
/// <remarks>
/// A density fitted by maximum likelihood to values that repeat can grow without bound on them (a spike of width going to 0):
/// the training and test log-likelihood then rise for a reason that has nothing to do with the data's shape. Uniform
/// dequantisation (Theis, van den Oord and Bethge 2016) replaces an integer value <c>k</c> by <c>k + u</c>, <c>u ~ U[0, 1)</c>,
/// drawn afresh every time the value is used (every training step), so that the model fits a density of the dequantised data.
/// Since every cell <c>[k, k + 1)</c> has volume 1, <c>E_u[-log p(k + u)]</c> is an upper bound on the discrete data's negative
/// log-likelihood <c>-log P(k)</c> (Jensen), in nats, with no further correction.
/// </remarks>
public static class DiscreteColumns
{
    /// <summary>A column with at most this fraction of distinct values among its rows looks discrete (see
    /// <see cref="ColumnValueCounts.LooksDiscrete"/>).</summary>
    public const double MaxDistinctFraction = 0.5;

    /// <summary>Fewest rows for which a column is judged (with fewer, repeats say little).</summary>
    public const long MinRows = 20;

    /// <summary>Counts the distinct values of every column of <paramref name="rows"/> and checks whether they are integers.</summary>
    /// <param name="rows">Data <c>[rows, columns]</c>, any real dtype and device; every value finite. Not changed.</param>
    /// <returns>One entry per column, in order.</returns>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is not 2-D or holds a non-finite value (the message names the row).</exception>
    public static IReadOnlyList<ColumnValueCounts> Count(Tensor rows)
    {
        RequireTable(rows, nameof(rows));
        Guard.Finite(rows, nameof(rows));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var values = rows.detach().to(ScalarType.Float64);
        long count = values.size(0);
        var sorted = values.sort(dim: 0).Values;
        // distinct = 1 + the number of places where the sorted column changes value.
        var changes = count > 1 ? sorted.narrow(0, 1, count - 1).ne(sorted.narrow(0, 0, count - 1)).sum(dim: 0) : torch.zeros(values.size(1), ScalarType.Int64);
        var integer = values.eq(values.round()).all(dim: 0);
        var distinct = changes.to(ScalarType.Int64).cpu().data<long>().ToArray();
        var whole = integer.to(ScalarType.Int64).cpu().data<long>().Select(v => v != 0).ToArray();
        return distinct.Select((d, j) => new ColumnValueCounts(j, count, count == 0 ? 0 : d + 1, whole[j])).ToArray();
    }

    /// <summary>The columns of <paramref name="rows"/> whose values are all integers.</summary>
    /// <param name="rows">Data <c>[rows, columns]</c>, every value finite.</param>
    public static IReadOnlyList<int> IntegerValued(Tensor rows) => Count(rows).Where(c => c.IntegerValued).Select(c => c.Column).ToArray();

    /// <summary>
    /// Uniform dequantisation of chosen columns: returns <paramref name="rows"/> with <c>u ~ U[0, 1)</c>, drawn independently for
    /// every value, added to the values of <paramref name="columns"/> (the other columns are copied unchanged).
    /// </summary>
    /// <param name="rows">Data <c>[rows, columns]</c> of a floating-point dtype. Not changed.</param>
    /// <param name="columns">Columns to dequantise; each must hold only integers.</param>
    /// <param name="generator">Generator for the noise; null uses TorchSharp's default generator.</param>
    /// <returns>A new tensor of the same shape, dtype and device.</returns>
    /// <exception cref="ArgumentException">The shape or dtype is wrong, a column index is out of range or repeated, or a chosen column
    /// holds a value that is not an integer (the message names the column and the row).</exception>
    public static Tensor Dequantize(Tensor rows, IReadOnlyList<int> columns, Generator? generator = null)
    {
        RequireTable(rows, nameof(rows));
        ArgumentNullException.ThrowIfNull(columns);
        if (!rows.is_floating_point()) throw new ArgumentException($"Expected floating-point rows; got {rows.dtype}.", nameof(rows));
        RequireIntegers(rows, columns, nameof(rows));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var mask = Mask(columns, rows.size(1), rows.dtype, rows.device);
        return scope.MoveToOuter(AddNoise(rows.detach(), mask, generator));
    }

    /// <summary>Checks that <paramref name="columns"/> are distinct columns of <paramref name="rows"/> holding only integers.</summary>
    internal static void RequireIntegers(Tensor rows, IReadOnlyList<int> columns, string paramName)
    {
        long width = rows.size(1);
        for (int i = 0; i < columns.Count; i++)
        {
            if (columns[i] < 0 || columns[i] >= width)
                throw new ArgumentException($"Column {columns[i]} is not a column of data with {width} columns.", paramName);
            for (int j = 0; j < i; j++)
                if (columns[j] == columns[i]) throw new ArgumentException($"Column {columns[i]} is named twice.", paramName);
        }
        if (columns.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var index = torch.tensor(columns.Select(c => (long)c).ToArray(), ScalarType.Int64, rows.device);
        var chosen = rows.detach().index_select(1, index).to(ScalarType.Float64);
        var bad = chosen.ne(chosen.round()).logical_or(chosen.isfinite().logical_not());
        if (!TensorValues.ToBoolean(bad.any())) return;
        var badRows = bad.any(1);
        long row = TensorValues.ToInt64(badRows.nonzero()[0, 0]);
        var values = chosen[row].cpu().data<double>().ToArray();
        int k = Array.FindIndex(values, v => !double.IsFinite(v) || v != Math.Round(v));
        throw new ArgumentException(
            $"Column {columns[k]} is to be dequantised but holds a value that is not an integer ({values[k]}) at row {row}.", paramName);
    }

    /// <summary>A <c>[columns]</c> tensor with 1 at <paramref name="chosen"/> and 0 elsewhere.</summary>
    internal static Tensor Mask(IReadOnlyList<int> chosen, long width, ScalarType dtype, Device device)
    {
        var ones = new double[width];
        foreach (int c in chosen) ones[c] = 1;
        return torch.tensor(ones, ScalarType.Float64).to(dtype).to(device);
    }

    /// <summary><c>rows + mask * u</c>, <c>u ~ U[0, 1)</c> of the rows' shape, in the caller's scope (no checks).</summary>
    internal static Tensor AddNoise(Tensor rows, Tensor mask, Generator? generator)
    {
        var noise = Draw.Uniform(rows.shape, rows.dtype, rows.device, generator);
        return rows.add(noise.mul(mask), Scalars.One);
    }

    private static void RequireTable(Tensor rows, string paramName)
    {
        ArgumentNullException.ThrowIfNull(rows, paramName);
        if (rows.dim() != 2) throw new ArgumentException($"Expected {paramName} with shape [rows, columns]; got {Guard.Shape(rows.shape)}.", paramName);
    }
}
