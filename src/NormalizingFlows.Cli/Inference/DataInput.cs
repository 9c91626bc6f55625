using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NormalizingFlows.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Inference;

/// <summary>Reads the rows a command works on: CSV or whitespace-separated text (optionally gzipped) or a NumPy .npy array.</summary>
internal static class DataInput
{
    /// <summary>Reads <paramref name="path"/> as rows <c>[rows, features]</c> of <paramref name="dtype"/> with column names
    /// (from the header, or <c>x0..</c>). A .npy array of more than two dimensions is flattened per row.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">A line, field or value is malformed (the message gives file, line and column), or the
    /// file has more rows or a longer line than <paramref name="limits"/> allow.</exception>
    public static (Tensor Rows, IReadOnlyList<string> Columns) Read(string path, ScalarType dtype, InputLimits? limits = null)
    {
        limits ??= InputLimits.Default;
        if (!File.Exists(path)) throw new FileNotFoundException($"No data file at {path}.", path);
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            using var scope = torch.NewDisposeScope();
            // Read in the model's dtype: a value beyond its range fails naming the row and column.
            var array = NpyFile.Read(path, dtype);
            if (array.dim() < 2) throw new InvalidDataException($"{path}: expected an array of rows ([rows, features]); got shape [{string.Join(", ", array.shape)}].");
            if (array.size(0) > limits.MaxRows)
                throw new DataFormatException(path, $"{array.size(0)} rows, more than the limit of {limits.MaxRows} (--max-rows).");
            var rows = array.reshape(array.size(0), -1).to(dtype);
            if (!rows.isfinite().all().item<bool>()) throw new InvalidDataException($"{path}: the array holds NaN or infinite values.");
            var names = Enumerable.Range(0, (int)rows.size(1)).Select(i => "x" + i).ToArray();
            return (scope.MoveToOuter(rows), names);
        }
        using var table = TabularFile.Read(path, new TabularReadOptions { DType = dtype, MaxRows = limits.MaxRows, MaxLineLength = limits.MaxLineBytes });
        return (table.Values.alias(), table.ColumnNames);
    }

    /// <summary>Checks that <paramref name="rows"/> has the model's width, with a message naming the file and both widths.</summary>
    public static void RequireWidth(string path, Tensor rows, Distribution model)
    {
        if (model.EventShape.Count != 1)
            throw new InvalidDataException($"This model takes events of shape [{string.Join(", ", model.EventShape)}]; tabular files hold flat rows.");
        if (rows.size(1) != model.EventShape[0])
            throw new InvalidDataException($"{path} has {rows.size(1)} columns but the model was trained on {model.EventShape[0]}.");
    }
}
