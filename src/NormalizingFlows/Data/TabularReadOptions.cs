using System;
using static TorchSharp.torch;

namespace NormalizingFlows.Data;

/// <summary>Settings of <see cref="TabularFile.Read(string, TabularReadOptions?)"/>. The defaults read a CSV or
/// whitespace-separated file, detect a header and return float32.</summary>
public sealed record TabularReadOptions
{
    /// <summary>How fields are separated; <see cref="TabularFormat.Auto"/> decides from the name and the first line.</summary>
    public TabularFormat Format { get; init; } = TabularFormat.Auto;

    /// <summary>Whether the first line (blank and comment lines aside) holds column names: true, false, or null to detect
    /// it (a header is a first line in which no field is a number).</summary>
    public bool? HasHeader { get; init; }

    /// <summary>The element type of the returned tensor: <see cref="ScalarType.Float32"/> (the default) or
    /// <see cref="ScalarType.Float64"/>.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>The longest line read, in characters (default 4 194 304, 4 Mi): a longer line is a
    /// <see cref="DataFormatException"/> naming the file and line, found after reading at most this much of it, so a file of
    /// one huge line (a binary file, or a crafted one) never fills the memory.</summary>
    public int MaxLineLength { get; init; } = DefaultMaxLineLength;

    /// <summary>The most data rows read (default 100 000 000): one more is a <see cref="DataFormatException"/> naming the
    /// file and line. The values of all rows must also fit in one array (at most <see cref="Array.MaxLength"/> values).</summary>
    public long MaxRows { get; init; } = DefaultMaxRows;

    /// <summary>The default of <see cref="MaxLineLength"/>: 4 194 304 characters.</summary>
    public const int DefaultMaxLineLength = 1 << 22;

    /// <summary>The default of <see cref="MaxRows"/>: 100 000 000 rows.</summary>
    public const long DefaultMaxRows = 100_000_000;

    /// <summary>Checks the options; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (MaxLineLength < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxLineLength), MaxLineLength, $"MaxLineLength must be at least 1; got {MaxLineLength}.");
        if (MaxRows < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxRows), MaxRows, $"MaxRows must be at least 1; got {MaxRows}.");
        if (!Enum.IsDefined(Format))
            throw new ArgumentOutOfRangeException(nameof(Format), Format, $"Format must be Auto, Csv or Whitespace; got {(int)Format}.");
        if (DType is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentOutOfRangeException(nameof(DType), DType, $"DType must be Float32 or Float64; got {DType}.");
    }
}
