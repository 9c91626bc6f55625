using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using NormalizingFlows.Data;

namespace NormalizingFlows.Cli.Fitting;

/// <summary>
/// The warning <c>train</c> prints when columns of its data look discrete (at most half of their rows hold distinct values, with at
/// least 20 rows: <see cref="ColumnValueCounts.LooksDiscrete"/>): a maximum-likelihood flow can put density spikes on repeated
/// values, which makes the NLL low or negative for no good reason.
/// </summary>
internal static class DiscreteDataWarning
{
    /// <summary>Writes one line per discrete-looking column and a closing line with advice to <paramref name="error"/>; nothing when
    /// no column looks discrete. Returns the discrete-looking columns.</summary>
    public static IReadOnlyList<ColumnValueCounts> Write(TextWriter error, IReadOnlyList<ColumnValueCounts> counts, IReadOnlyList<string> names, bool dequantizing)
    {
        var discrete = counts.Where(c => c.LooksDiscrete).ToArray();
        if (discrete.Length == 0) return discrete;
        foreach (var c in discrete)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warning: column {c.Column} ({Name(names, c.Column)}) holds {c.DistinctValues} distinct values in {c.Rows} rows ({c.TiedFraction:P1} tied){(c.IntegerValued ? ", all integers" : "")}"));
        }
        var integer = discrete.Where(c => c.IntegerValued).Select(c => Name(names, c.Column)).ToArray();
        var other = discrete.Where(c => !c.IntegerValued).Select(c => Name(names, c.Column)).ToArray();
        string advice = dequantizing
            ? (integer.Length > 0 ? "the integer-valued ones are dequantised (--dequantize uniform)" : "none of them is integer-valued, so --dequantize uniform leaves them as they are")
            : integer.Length > 0 ? $"consider --dequantize uniform for the {integer.Length} integer-valued ({string.Join(", ", integer)})" : "--dequantize uniform applies to integer-valued columns only";
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warning: {discrete.Length} of {counts.Count} columns look discrete (at most {DiscreteColumns.MaxDistinctFraction:P0} of their rows hold distinct values): ") +
            $"a flow can put density spikes on repeated values, so its NLL can be very low or negative; {advice}" +
            (other.Length > 0 ? $"; not integer-valued, left as they are: {string.Join(", ", other)}" : "") + ".");
        return discrete;
    }

    private static string Name(IReadOnlyList<string> names, int column) => column < names.Count ? names[column] : "x" + column.ToString(CultureInfo.InvariantCulture);
}
