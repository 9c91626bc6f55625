using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace NormalizingFlows.Data;

/// <summary>
/// A table read by <see cref="TabularFile"/>: the values <c>[rows, columns]</c> and one name per column. The caller owns
/// <see cref="Values"/>; disposing this object disposes it.
/// </summary>
public sealed class TabularData : IDisposable
{
    /// <summary>Creates a table from values and column names.</summary>
    /// <param name="values">The values, <c>[rows, columns]</c>; this object takes ownership.</param>
    /// <param name="columnNames">One name per column.</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> is not 2-D, or the number of names differs from its columns.</exception>
    public TabularData(Tensor values, IReadOnlyList<string> columnNames)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(columnNames);
        if (values.dim() != 2)
            throw new ArgumentException($"Expected values with shape [rows, columns]; got [{string.Join(", ", values.shape)}].", nameof(values));
        if (columnNames.Count != values.size(1))
            throw new ArgumentException($"Expected {values.size(1)} column names (one per column); got {columnNames.Count}.", nameof(columnNames));
        Values = values;
        ColumnNames = Array.AsReadOnly(System.Linq.Enumerable.ToArray(columnNames));
    }

    /// <summary>The values, <c>[rows, columns]</c>, on the CPU.</summary>
    public Tensor Values { get; }

    /// <summary>The column names: from the header, or <c>x0</c>, <c>x1</c>, ... when the source has none.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>True when the names came from a header line; false when they were generated.</summary>
    public bool ColumnNamesFromHeader { get; init; }

    /// <summary>Number of data rows.</summary>
    public long Rows => Values.size(0);

    /// <summary>Number of columns.</summary>
    public int Columns => ColumnNames.Count;

    /// <summary>Disposes <see cref="Values"/>.</summary>
    public void Dispose() => Values.Dispose();
}
