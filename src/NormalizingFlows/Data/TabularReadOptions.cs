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

    /// <summary>Checks the options; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Format))
            throw new ArgumentOutOfRangeException(nameof(Format), Format, $"Format must be Auto, Csv or Whitespace; got {(int)Format}.");
        if (DType is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentOutOfRangeException(nameof(DType), DType, $"DType must be Float32 or Float64; got {DType}.");
    }
}
