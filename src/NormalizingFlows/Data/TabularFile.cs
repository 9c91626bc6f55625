using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Data;

/// <summary>
/// Reads and writes numeric tables in text files: CSV or whitespace-separated columns, one row per line, optionally
/// gzip-compressed (a name ending in <c>.gz</c>).
/// </summary>
/// <remarks>
/// <para>Reading: blank lines and lines starting with <c>#</c> are skipped; a first line in which no field is a number is
/// taken as the header (or say so with <see cref="TabularReadOptions.HasHeader"/>); numbers are read in the invariant
/// culture (<c>1.5</c>, <c>-2</c>, <c>1e-3</c>; no thousands separators). Every value must be finite: NaN and infinities
/// (<c>NaN</c>, <c>Infinity</c>, <c>1e999</c>) are rejected, and so is anything else that is not a number (<c>-inf</c>,
/// <c>NA</c>, an empty field). Each problem is a <see cref="DataFormatException"/> whose message starts with
/// <c>path:line:field:</c>.</para>
/// <para>Writing: CSV with an optional header, invariant culture, each value in the shortest form that reads back to the
/// same bits (float32 and float64 alike), written atomically (a temporary file in the same folder, then moved over the
/// target, so a failure leaves an old file as it was).</para>
/// </remarks>
public static class TabularFile
{
    private static readonly char[] Blanks = { ' ', '\t' };

    /// <summary>Reads a table from a file.</summary>
    /// <param name="path">A CSV or whitespace-separated text file; <c>.gz</c> at the end of the name decompresses it.</param>
    /// <param name="options">Format, header and element type; null for the defaults (detect both, float32).</param>
    /// <returns>The values <c>[rows, columns]</c> and the column names; the caller owns (disposes) it.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">A field is not a finite number (or, read as float32, beyond the float32 range), a
    /// row has the wrong number of fields, there are no data rows, a line is longer than
    /// <see cref="TabularReadOptions.MaxLineLength"/>, or there are more rows than <see cref="TabularReadOptions.MaxRows"/>;
    /// the message starts with <c>path:line:field:</c>. For a <c>.gz</c> file also: it is not gzip data, or it is truncated
    /// or damaged (checked against its gzip trailer); the message starts with <c>path:</c>.</exception>
    /// <exception cref="InsufficientMemoryException">The rows do not fit in memory (the message names the file and the row).</exception>
    public static TabularData Read(string path, TabularReadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new TabularReadOptions();
        options.Validate();
        if (!File.Exists(path)) throw new FileNotFoundException($"The data file {path} does not exist.", path);
        // A .gz file is checked against its gzip trailer at the end: a truncated file is an error, not fewer rows.
        using Stream content = AtomicFile.IsGzip(path) ? new CheckedGzipStream(path) : File.OpenRead(path);
        using var reader = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        return ReadCore(reader, path, options);
    }

    /// <summary>Reads a table from text (standard input, a string, a stream of your own).</summary>
    /// <param name="reader">The text; read to its end, not disposed.</param>
    /// <param name="sourceName">The name error messages give the source, e.g. <c>stdin</c>. With
    /// <see cref="TabularFormat.Auto"/>, a name ending in <c>.csv</c> means CSV.</param>
    /// <param name="options">Format, header and element type; null for the defaults.</param>
    /// <returns>The values <c>[rows, columns]</c> and the column names; the caller owns (disposes) it.</returns>
    /// <exception cref="DataFormatException">As <see cref="Read(string, TabularReadOptions?)"/>.</exception>
    public static TabularData Read(TextReader reader, string sourceName, TabularReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        options ??= new TabularReadOptions();
        options.Validate();
        return ReadCore(reader, sourceName, options);
    }

    /// <summary>Writes a tensor as CSV, atomically.</summary>
    /// <param name="path">The file to create or replace; gzip-compressed when the name ends with <c>.gz</c>. Its folder must exist.</param>
    /// <param name="data">Rows <c>[rows, columns]</c>, or <c>[rows]</c> for one column (log-probabilities, for example); any
    /// floating-point or integer type, on any device. Non-finite values are written as <c>NaN</c>, <c>Infinity</c> and
    /// <c>-Infinity</c> (which <see cref="Read(string, TabularReadOptions?)"/> rejects).</param>
    /// <param name="header">One name per column, or null for no header line. Names holding a comma, a quote or surrounding
    /// spaces are quoted.</param>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not 1-D or 2-D, is of an unsupported type, or the
    /// header has the wrong number of names or a name with a line break.</exception>
    public static void Write(string path, Tensor data, IReadOnlyList<string>? header = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var text = Format(data, header);
        AtomicFile.WriteMaybeGzip(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);
            text(writer);
        });
    }

    /// <summary>Writes a tensor as CSV to a text writer (standard output, for example).</summary>
    /// <param name="writer">Where the text goes; not disposed.</param>
    /// <param name="data">As <see cref="Write(string, Tensor, IReadOnlyList{string}?)"/>.</param>
    /// <param name="header">As <see cref="Write(string, Tensor, IReadOnlyList{string}?)"/>.</param>
    /// <exception cref="ArgumentException">As <see cref="Write(string, Tensor, IReadOnlyList{string}?)"/>.</exception>
    public static void Write(TextWriter writer, Tensor data, IReadOnlyList<string>? header = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Format(data, header)(writer);
    }

    // Checks the arguments and copies the values out before anything is written, so a bad argument never leaves a file.
    private static Action<TextWriter> Format(Tensor data, IReadOnlyList<string>? header)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.dim() is not (1 or 2))
            throw new ArgumentException($"Expected data with shape [rows, columns] or [rows]; got [{string.Join(", ", data.shape)}].", nameof(data));
        long rows = data.size(0);
        long columns = data.dim() == 2 ? data.size(1) : 1;
        if (header is not null)
        {
            if (header.Count != columns)
                throw new ArgumentException($"Expected {columns} header names (one per column of data); got {header.Count}.", nameof(header));
            for (int i = 0; i < header.Count; i++)
                if (header[i] is null || header[i].IndexOfAny(new[] { '\r', '\n' }) >= 0)
                    throw new ArgumentException($"header[{i}] must be a name without line breaks; got {(header[i] is null ? "null" : $"\"{header[i]}\"")}.", nameof(header));
        }
        Func<long, string> value = Values(data);
        var names = header?.ToArray();
        return writer =>
        {
            writer.NewLine = "\n";
            if (names is not null) writer.WriteLine(string.Join(",", names.Select(Quote)));
            var line = new StringBuilder();
            for (long r = 0; r < rows; r++)
            {
                line.Clear();
                for (long c = 0; c < columns; c++)
                {
                    if (c > 0) line.Append(',');
                    line.Append(value(r * columns + c));
                }
                writer.WriteLine(line);
            }
            writer.Flush();
        };
    }

    private static Func<long, string> Values(Tensor data)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var flat = data.detach().cpu().contiguous().reshape(-1);
        var invariant = CultureInfo.InvariantCulture;
        switch (data.dtype)
        {
            case ScalarType.Float32:
                {
                    var v = flat.data<float>().ToArray();
                    return i => v[i].ToString("R", invariant);
                }
            case ScalarType.Float64:
                {
                    var v = flat.data<double>().ToArray();
                    return i => v[i].ToString("R", invariant);
                }
            case ScalarType.Float16 or ScalarType.BFloat16:
                {
                    // Every half value is exactly a float32, whose shortest form reads back to the same half.
                    var v = flat.to(ScalarType.Float32).data<float>().ToArray();
                    return i => v[i].ToString("R", invariant);
                }
            case ScalarType.Byte or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64:
                {
                    var v = flat.to(ScalarType.Int64).data<long>().ToArray();
                    return i => v[i].ToString(invariant);
                }
            default:
                throw new ArgumentException($"Expected data of a floating-point or integer type; got {data.dtype}.", nameof(data));
        }
    }

    private static string Quote(string name) =>
        name.IndexOfAny(new[] { ',', '"' }) >= 0 || name.Length != name.Trim().Length || name.StartsWith('#') || name.Length == 0
            ? "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : name;

    private static TabularData ReadCore(TextReader reader, string source, TabularReadOptions options)
    {
        try
        {
            return ReadRows(reader, source, options);
        }
        catch (OutOfMemoryException e) when (e is not InsufficientMemoryException)
        {
            throw new InsufficientMemoryException(
                $"{source}: its rows do not fit in memory; read a part of it (TabularReadOptions.MaxRows; nflows --max-rows) or free memory.", e);
        }
    }

    private static TabularData ReadRows(TextReader reader, string source, TabularReadOptions options)
    {
        var format = options.Format;
        if (format == TabularFormat.Auto && NameWithoutGzip(source).EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            format = TabularFormat.Csv;
        bool float32 = options.DType == ScalarType.Float32;
        var singles = float32 ? new List<float>() : null;
        var doubles = float32 ? null : new List<double>();
        string[]? names = null;
        bool namesFromHeader = false;
        int expected = -1;
        long firstRowLine = 0, headerLine = 0, lineNumber = 0, rows = 0;
        var lines = new BoundedLineReader(reader, source, options.MaxLineLength);
        string? line;
        while ((line = lines.ReadLine(lineNumber + 1)) is not null)
        {
            lineNumber++;
            if (lineNumber == 1 && line.Length > 0 && line[0] == '\uFEFF') line = line[1..];
            var content = line.AsSpan().Trim();
            if (content.IsEmpty || content[0] == '#') continue;
            if (format == TabularFormat.Auto) format = line.Contains(',', StringComparison.Ordinal) ? TabularFormat.Csv : TabularFormat.Whitespace;
            var fields = format == TabularFormat.Csv ? SplitCsv(line, source, lineNumber) : line.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
            if (names is null && expected < 0)
            {
                bool header = options.HasHeader ?? fields.All(f => !double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                if (header)
                {
                    names = fields.Select((f, i) => f.Length == 0 ? "x" + i.ToString(CultureInfo.InvariantCulture) : f).ToArray();
                    namesFromHeader = true;
                    expected = names.Length;
                    headerLine = lineNumber;
                    continue;
                }
                expected = fields.Length;
                firstRowLine = lineNumber;
            }
            if (fields.Length != expected)
            {
                string reference = namesFromHeader ? $"the header on line {headerLine}" : $"the first row, line {firstRowLine}";
                throw new DataFormatException(source, lineNumber, Math.Min(fields.Length, expected) + 1,
                    $"expected {expected} fields (as {reference}); got {fields.Length}");
            }
            if (rows == options.MaxRows)
                throw new DataFormatException(source, lineNumber, 1, $"the file has more than {options.MaxRows} data rows (TabularReadOptions.MaxRows; nflows --max-rows)");
            if ((rows + 1) * expected > Array.MaxLength)
                throw new DataFormatException(source, lineNumber, 1,
                    $"the data would hold more than {Array.MaxLength} values ({rows + 1} rows of {expected}), more than one array holds");
            for (int i = 0; i < fields.Length; i++)
            {
                if (float32) singles!.Add(ParseSingle(fields[i], source, lineNumber, i, names));
                else doubles!.Add(ParseDouble(fields[i], source, lineNumber, i, names));
            }
            rows++;
        }
        if (rows == 0)
        {
            string problem = namesFromHeader ? $"no data rows after the header on line {headerLine}" : "no data rows (the source is empty, or holds only blank and comment lines)";
            throw new DataFormatException(source, lineNumber + 1, 1, problem);
        }
        names ??= Enumerable.Range(0, expected).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var shape = new[] { rows, (long)expected };
        var values = float32 ? torch.tensor(singles!.ToArray(), shape) : torch.tensor(doubles!.ToArray(), shape);
        return new TabularData(values, names) { ColumnNamesFromHeader = namesFromHeader };
    }

    private static float ParseSingle(string field, string source, long line, int index, string[]? names)
    {
        if (float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value))
            return value;
        throw NotANumber(field, source, line, index, names, float32: true);
    }

    private static double ParseDouble(string field, string source, long line, int index, string[]? names)
    {
        if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value))
            return value;
        throw NotANumber(field, source, line, index, names, float32: false);
    }

    private static DataFormatException NotANumber(string field, string source, long line, int index, string[]? names, bool float32)
    {
        string which = names is null ? $"field {index + 1}" : $"field {index + 1} (\"{names[index]}\")";
        bool parsed = double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double asDouble);
        string problem;
        if (field.Length == 0) problem = $"{which} is empty";
        else if (parsed && double.IsNaN(asDouble)) problem = $"{which} is NaN; every value must be a finite number";
        else if (parsed && double.IsFinite(asDouble) && float32)
            problem = $"{which} is {field}, beyond the float32 range (about ±3.4e38); read the file as Float64";
        else if (parsed) problem = $"{which} is infinite or beyond the float64 range: \"{field}\"; every value must be a finite number";
        else problem = $"{which} is not a number: \"{field}\"";
        return new DataFormatException(source, line, index + 1, problem);
    }

    private static string[] SplitCsv(string line, string source, long lineNumber)
    {
        var fields = new List<string>();
        int i = 0, n = line.Length;
        while (true)
        {
            while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
            if (i < n && line[i] == '"')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= n)
                        throw new DataFormatException(source, lineNumber, fields.Count + 1, "a quoted field is not closed on its line");
                    if (line[i] == '"')
                    {
                        if (i + 1 < n && line[i + 1] == '"') { text.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    text.Append(line[i++]);
                }
                while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
                fields.Add(text.ToString());
                if (i >= n) break;
                if (line[i] != ',')
                    throw new DataFormatException(source, lineNumber, fields.Count, $"unexpected text after the closing quote: \"{line[i..]}\"");
                i++;
            }
            else
            {
                int comma = line.IndexOf(',', i);
                int end = comma < 0 ? n : comma;
                fields.Add(line[i..end].Trim());
                if (comma < 0) break;
                i = comma + 1;
            }
        }
        return fields.ToArray();
    }

    private static string NameWithoutGzip(string name) => AtomicFile.IsGzip(name) ? name[..^3] : name;
}
