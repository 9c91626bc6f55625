using System;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Data;

/// <summary>
/// A reproducible split of a data set's rows into training, validation and test parts: disjoint, together all rows,
/// the same rows for the same seed and row count (with one libtorch version: its permutation algorithm decides). The caller
/// owns this object and disposes it (which disposes the parts).
/// </summary>
/// <remarks>
/// The rows are ordered by a random permutation drawn from a TorchSharp <see cref="Generator"/> seeded with the seed; the
/// first <c>round(rows * testFraction)</c> go to the test part, the next <c>round(rows * validationFraction)</c> to the
/// validation part, the rest to training. Each part keeps its rows in their original order (the index arrays are sorted).
/// </remarks>
public sealed class DataSplit : IDisposable
{
    private DataSplit(Tensor train, Tensor validation, Tensor test, long[] trainRows, long[] validationRows, long[] testRows)
    {
        Train = train;
        Validation = validation;
        Test = test;
        TrainRows = Array.AsReadOnly(trainRows);
        ValidationRows = Array.AsReadOnly(validationRows);
        TestRows = Array.AsReadOnly(testRows);
    }

    /// <summary>The training rows, <c>[trainRows, ...]</c>.</summary>
    public Tensor Train { get; }

    /// <summary>The validation rows (possibly none: shape <c>[0, ...]</c>).</summary>
    public Tensor Validation { get; }

    /// <summary>The test rows (possibly none: shape <c>[0, ...]</c>).</summary>
    public Tensor Test { get; }

    /// <summary>Indices (into the split data's first dimension) of the training rows, ascending.</summary>
    public System.Collections.Generic.IReadOnlyList<long> TrainRows { get; }

    /// <summary>Indices of the validation rows, ascending.</summary>
    public System.Collections.Generic.IReadOnlyList<long> ValidationRows { get; }

    /// <summary>Indices of the test rows, ascending.</summary>
    public System.Collections.Generic.IReadOnlyList<long> TestRows { get; }

    /// <summary>Splits the rows (the first dimension) of <paramref name="data"/>.</summary>
    /// <param name="data">The data set, <c>[rows, ...]</c>; any type and device. Not disposed.</param>
    /// <param name="validationFraction">Fraction of rows for validation, in [0, 1).</param>
    /// <param name="testFraction">Fraction of rows for testing, in [0, 1).</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <returns>The three parts (fresh tensors on the device of <paramref name="data"/>) and their row indices.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A fraction is outside [0, 1), or the two add up to 1 or more.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is 0-D, or so small that no training row is left.</exception>
    public static DataSplit Create(Tensor data, double validationFraction, double testFraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckFraction(validationFraction, nameof(validationFraction));
        CheckFraction(testFraction, nameof(testFraction));
        if (!(validationFraction + testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction,
                $"validationFraction + testFraction must be below 1 so that rows are left for training; got {Text(validationFraction)} + {Text(testFraction)} = {Text(validationFraction + testFraction)}.");
        if (data.dim() == 0)
            throw new ArgumentException("Expected data with shape [rows, ...]; got a 0-D tensor.", nameof(data));
        long rows = data.size(0);
        long testCount = (long)Math.Round(rows * testFraction, MidpointRounding.AwayFromZero);
        long validationCount = (long)Math.Round(rows * validationFraction, MidpointRounding.AwayFromZero);
        long trainCount = rows - testCount - validationCount;
        if (trainCount <= 0)
            throw new ArgumentException(
                $"Splitting {rows} rows into {validationCount} for validation and {testCount} for testing leaves none for training; give more rows or smaller fractions.",
                nameof(data));

        long[] permutation;
        using (var generator = new Generator(unchecked((ulong)seed)))
        using (var drawn = torch.randperm(rows, generator: generator, dtype: ScalarType.Int64))
            permutation = drawn.data<long>().ToArray();
        var testRows = permutation[..(int)testCount];
        var validationRows = permutation[(int)testCount..(int)(testCount + validationCount)];
        var trainRows = permutation[(int)(testCount + validationCount)..];
        Array.Sort(testRows);
        Array.Sort(validationRows);
        Array.Sort(trainRows);

        using var scope = torch.NewDisposeScope();
        var train = Take(data, trainRows);
        var validation = Take(data, validationRows);
        var test = Take(data, testRows);
        scope.MoveToOuter(train, validation, test);
        return new DataSplit(train, validation, test, trainRows, validationRows, testRows);
    }

    /// <summary>Disposes the three parts.</summary>
    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }

    private static Tensor Take(Tensor data, long[] rows)
    {
        using var index = torch.tensor(rows, dtype: ScalarType.Int64, device: data.device);
        using var noGrad = torch.no_grad();
        return data.index_select(0, index);
    }

    private static void CheckFraction(double fraction, string paramName)
    {
        if (!(fraction >= 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(paramName, fraction, $"{paramName} must be in [0, 1); got {Text(fraction)}.");
    }

    private static string Text(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
