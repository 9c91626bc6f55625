namespace NormalizingFlows.Data;

/// <summary>How many distinct values one column of a data set holds, and whether they are all integers
/// (see <see cref="DiscreteColumns.Count"/>).</summary>
/// <param name="Column">Index of the column (0-based).</param>
/// <param name="Rows">Rows of the data set.</param>
/// <param name="DistinctValues">Distinct values in the column.</param>
/// <param name="IntegerValued">Whether every value of the column is a whole number (such a column can be dequantised with
/// <see cref="DiscreteColumns.Dequantize"/>).</param>
public sealed record ColumnValueCounts(int Column, long Rows, long DistinctValues, bool IntegerValued)
{
    /// <summary>Rows whose value an earlier row already holds: <c>Rows - DistinctValues</c>.</summary>
    public long TiedRows => Rows - DistinctValues;

    /// <summary><see cref="TiedRows"/> as a fraction of <see cref="Rows"/>.</summary>
    public double TiedFraction => Rows == 0 ? 0 : (double)TiedRows / Rows;

    /// <summary>
    /// Whether the column looks discrete: at most <see cref="DiscreteColumns.MaxDistinctFraction"/> of its rows hold distinct values
    /// (so that every value repeats at least twice on average, <see cref="TiedFraction"/> at least 0.5), with at least
    /// <see cref="DiscreteColumns.MinRows"/> rows. A maximum-likelihood fit puts density spikes on such repeated values.
    /// </summary>
    public bool LooksDiscrete => Rows >= DiscreteColumns.MinRows && DistinctValues <= Rows * DiscreteColumns.MaxDistinctFraction;
}
