using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Data;

/// <summary>
/// Reads and writes NumPy's <c>.npy</c> array files (format versions 1.0, 2.0 and 3.0): one array of any shape, in
/// C (row-major) order, of a little-endian numeric type.
/// </summary>
/// <remarks>
/// <para>Types read: <c>&lt;f4</c> (float32 tensor), <c>&lt;f8</c> (float64 tensor), and the integers <c>|i1</c>,
/// <c>&lt;i2</c>, <c>&lt;i4</c>, <c>&lt;i8</c>, <c>|u1</c> and <c>&lt;u2</c>, which become <b>int64</b> tensors (unless a
/// <c>dtype</c> is asked for). Arrays in Fortran order (unless at most one dimension is longer than 1), big-endian arrays, other types (booleans, float16, complex,
/// strings, records, objects) and malformed or truncated files are rejected with a <see cref="DataFormatException"/>
/// whose message starts with the path and names the problem.</para>
/// <para>Types written: float32, float64, int64, int32, int16, int8 and uint8, as version 1.0 files (2.0 when the
/// header would not fit), atomically.</para>
/// </remarks>
public static class NpyFile
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Reads an array from a <c>.npy</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="dtype">The element type of the result, or null for the file's own: float32 and float64 kept,
    /// integers as int64. Converting here (to float32, say) skips the int64 copy of a large integer array.</param>
    /// <returns>A CPU tensor of the file's shape (a 0-D tensor for a scalar); the caller owns it.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">The file is not a <c>.npy</c> file this reader supports, is truncated (its shape
    /// is checked against the bytes really there before anything is allocated), or, read as float32, holds a float64 value
    /// beyond the float32 range (the message names its row and column); the message names the file and the problem.</exception>
    /// <exception cref="InsufficientMemoryException">The file's array, though really there, does not fit in memory (the
    /// message names the file and the shape).</exception>
    public static Tensor Read(string path, ScalarType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The data file {path} does not exist.", path);
        using var file = File.OpenRead(path);
        return Read(file, path, dtype);
    }

    /// <summary>Reads an array from a stream holding a <c>.npy</c> file.</summary>
    /// <param name="stream">The bytes, read from the current position; not disposed.</param>
    /// <param name="sourceName">The name error messages give the source.</param>
    /// <param name="dtype">As <see cref="Read(string, ScalarType?)"/>.</param>
    /// <returns>A CPU tensor of the array's shape; the caller owns it.</returns>
    /// <exception cref="DataFormatException">As <see cref="Read(string, ScalarType?)"/>.</exception>
    public static Tensor Read(Stream stream, string sourceName, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        var header = ReadHeader(stream, sourceName);
        var (kind, size) = ParseDescr(header.Descr, sourceName);
        long count = 1;
        try
        {
            foreach (long d in header.Shape) count = checked(count * d);
            _ = checked(count * size);
        }
        catch (OverflowException)
        {
            throw new DataFormatException(sourceName, $"the shape {ShapeText(header.Shape)} is too large");
        }
        if (count > Array.MaxLength)
            throw new DataFormatException(sourceName, $"the shape {ShapeText(header.Shape)} holds {count} elements; this reader takes at most {Array.MaxLength}");
        // The shape is checked against the bytes really there before anything of its size is allocated: a small file that
        // claims billions of elements fails here, not after an allocation of its claimed size.
        long needed = count * size;
        stream = Available(stream, needed, sourceName, header, out long available);
        if (available < needed)
            throw new DataFormatException(sourceName,
                $"is truncated: the shape {ShapeText(header.Shape)} of '{header.Descr}' needs {needed} bytes of data; the file holds {available}");

        using var scope = torch.NewDisposeScope();
        var shape = header.Shape.ToArray();
        Tensor tensor = (kind, size) switch
        {
            ('f', 4) => torch.tensor(ReadArray<float>(stream, count, size, sourceName, header.Shape, header.Descr), shape),
            ('f', 8) => torch.tensor(RequireFloat32Range(ReadArray<double>(stream, count, size, sourceName, header.Shape, header.Descr),
                dtype == ScalarType.Float32, header.Shape, sourceName), shape),
            ('i', 1) => torch.tensor(ReadArray<sbyte>(stream, count, size, sourceName, header.Shape, header.Descr).Select(v => (long)v).ToArray(), shape),
            ('i', 2) => torch.tensor(ReadArray<short>(stream, count, size, sourceName, header.Shape, header.Descr), shape),
            ('i', 4) => torch.tensor(ReadArray<int>(stream, count, size, sourceName, header.Shape, header.Descr), shape),
            ('i', 8) => torch.tensor(ReadArray<long>(stream, count, size, sourceName, header.Shape, header.Descr), shape),
            ('u', 1) => torch.tensor(ReadArray<byte>(stream, count, size, sourceName, header.Shape, header.Descr), shape),
            ('u', 2) => torch.tensor(ReadArray<ushort>(stream, count, size, sourceName, header.Shape, header.Descr).Select(v => (int)v).ToArray(), shape),
            _ => throw new InvalidOperationException("unreachable: ParseDescr admits only the types above"),
        };
        var target = dtype ?? (kind == 'f' ? tensor.dtype : ScalarType.Int64);
        if (tensor.dtype != target) tensor = tensor.to(target);
        return tensor.MoveToOuterDisposeScope();
    }

    /// <summary>Writes a tensor to a <c>.npy</c> file (version 1.0, C order, little-endian), atomically.</summary>
    /// <param name="path">The file to create or replace; its folder must exist.</param>
    /// <param name="data">Any shape; float32, float64, int64, int32, int16, int8 or uint8; on any device.</param>
    /// <exception cref="ArgumentException"><paramref name="data"/> has another element type.</exception>
    public static void Write(string path, Tensor data)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(data);
        string descr = data.dtype switch
        {
            ScalarType.Float32 => "<f4",
            ScalarType.Float64 => "<f8",
            ScalarType.Int64 => "<i8",
            ScalarType.Int32 => "<i4",
            ScalarType.Int16 => "<i2",
            ScalarType.Int8 => "|i1",
            ScalarType.Byte => "|u1",
            _ => throw new ArgumentException($"Expected data of type Float32, Float64, Int64, Int32, Int16, Int8 or Byte; got {data.dtype}.", nameof(data)),
        };
        byte[] bytes;
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var flat = data.detach().cpu().contiguous();
            bytes = flat.bytes.ToArray();
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("NpyFile writes little-endian data on little-endian machines only.");
        byte[] preamble = Header(descr, data.shape);
        AtomicFile.WriteMaybeGzip(path, stream =>
        {
            stream.Write(preamble);
            stream.Write(bytes);
        });
    }

    private static byte[] Header(string descr, long[] shape)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {ShapeText(shape)}, }}";
        // Pad with spaces and end with a newline so that the data starts at a multiple of 64 bytes (as NumPy does).
        foreach (var (major, lengthBytes) in new[] { (1, 2), (2, 4) })
        {
            int prefix = Magic.Length + 2 + lengthBytes;
            int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
            int headerLength = total - prefix;
            if (major == 1 && headerLength > ushort.MaxValue) continue;
            var bytes = new byte[total];
            Magic.CopyTo(bytes, 0);
            bytes[6] = (byte)major;
            bytes[7] = 0;
            if (lengthBytes == 2) BitConverter.TryWriteBytes(bytes.AsSpan(8, 2), (ushort)headerLength);
            else BitConverter.TryWriteBytes(bytes.AsSpan(8, 4), (uint)headerLength);
            Encoding.ASCII.GetBytes(dict.PadRight(headerLength - 1) + "\n").CopyTo(bytes, prefix);
            return bytes;
        }
        throw new ArgumentException($"The shape {ShapeText(shape)} needs a header too long for a .npy file.", nameof(shape));
    }

    private static string ShapeText(IReadOnlyList<long> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    private static T[] ReadArray<T>(Stream stream, long count, int size, string source, IReadOnlyList<long> shape, string descr) where T : struct
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("NpyFile reads on little-endian machines only.");
        T[] values;
        try
        {
            values = new T[count];
        }
        catch (OutOfMemoryException e)
        {
            throw new InsufficientMemoryException(
                $"{source}: its {ShapeText(shape)} array of '{descr}' ({count * size} bytes) does not fit in memory.", e);
        }
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        int read = ReadFully(stream, bytes);
        if (read < bytes.Length)
            throw new DataFormatException(source,
                $"is truncated: the shape {ShapeText(shape)} of '{descr}' needs {count * size} bytes of data; the file holds {read}");
        return values;
    }

    /// <summary>A stream whose remaining length is known: <paramref name="stream"/> itself when it can seek, otherwise a copy of
    /// at most <paramref name="needed"/> of its bytes (so what is allocated is what the stream really holds, never what the
    /// header claims).</summary>
    private static Stream Available(Stream stream, long needed, string source, NpyHeader header, out long available)
    {
        if (stream.CanSeek)
        {
            available = Math.Max(0, stream.Length - stream.Position);
            return stream;
        }
        var copy = new MemoryStream();
        var buffer = new byte[1 << 16];
        while (copy.Length < needed)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, needed - copy.Length));
            if (n == 0) break;
            copy.Write(buffer, 0, n);
        }
        available = copy.Length;
        copy.Position = 0;
        return copy;
    }

    /// <summary>When read as float32, rejects a float64 value that would become an infinity, naming its position.</summary>
    private static double[] RequireFloat32Range(double[] data, bool float32, IReadOnlyList<long> shape, string source)
    {
        if (!float32) return data;
        for (long i = 0; i < data.LongLength; i++)
        {
            double v = data[i];
            if (!double.IsFinite(v) || Math.Abs(v) <= float.MaxValue) continue;
            var index = new long[shape.Count];
            long rest = i;
            for (int d = shape.Count - 1; d >= 0; d--)
            {
                index[d] = shape[d] == 0 ? 0 : rest % shape[d];
                rest = shape[d] == 0 ? 0 : rest / shape[d];
            }
            string where = shape.Count == 2 ? $"row {index[0] + 1}, column {index[1] + 1}" : $"index [{string.Join(", ", index)}]";
            throw new DataFormatException(source,
                $"the value at {where} is {v.ToString("R", CultureInfo.InvariantCulture)}, beyond the float32 range (about ±3.4e38); read the file as Float64");
        }
        return data;
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private readonly record struct NpyHeader(string Descr, bool FortranOrder, IReadOnlyList<long> Shape);

    private static NpyHeader ReadHeader(Stream stream, string source)
    {
        var start = new byte[8];
        int got = ReadFully(stream, start);
        if (got < 8 || !start.AsSpan(0, 6).SequenceEqual(Magic))
            throw new DataFormatException(source, "is not a .npy file: it does not start with the bytes \\x93NUMPY");
        int major = start[6], minor = start[7];
        if (major is not (1 or 2 or 3) || minor != 0)
            throw new DataFormatException(source, $"has .npy format version {major}.{minor}; this reader supports 1.0, 2.0 and 3.0");
        var lengthBytes = new byte[major == 1 ? 2 : 4];
        if (ReadFully(stream, lengthBytes) < lengthBytes.Length)
            throw new DataFormatException(source, "is truncated inside its header");
        long length = major == 1 ? BitConverter.ToUInt16(lengthBytes) : BitConverter.ToUInt32(lengthBytes);
        if (length > 1 << 24)
            throw new DataFormatException(source, $"declares a header of {length} bytes, which is not plausible");
        var headerBytes = new byte[length];
        if (ReadFully(stream, headerBytes) < headerBytes.Length)
            throw new DataFormatException(source, $"is truncated inside its header (declared {length} bytes)");
        string text = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var dict = HeaderParser.Parse(text, source);
        string descr = dict.TryGetValue("descr", out var d) ? d as string ?? throw BadHeader(source, text, "'descr' is not a string")
            : throw BadHeader(source, text, "the key 'descr' is missing");
        bool fortran = dict.TryGetValue("fortran_order", out var f) ? f as bool? ?? throw BadHeader(source, text, "'fortran_order' is not True or False")
            : throw BadHeader(source, text, "the key 'fortran_order' is missing");
        var shape = dict.TryGetValue("shape", out var s) ? s as IReadOnlyList<long> ?? throw BadHeader(source, text, "'shape' is not a tuple of integers")
            : throw BadHeader(source, text, "the key 'shape' is missing");
        if (shape.Any(x => x < 0)) throw BadHeader(source, text, "the shape has a negative size");
        // With at most one dimension longer than 1, Fortran and C order lay the elements out alike.
        if (fortran && shape.Count(x => x > 1) > 1)
            throw new DataFormatException(source, $"stores its {ShapeText(shape)} array in Fortran (column-major) order, which this reader does not support; save it with numpy.ascontiguousarray first");
        return new NpyHeader(descr, fortran, shape);
    }

    private static DataFormatException BadHeader(string source, string header, string problem) =>
        new(source, $"has a header that cannot be parsed: {problem}; header: {header.TrimEnd()}");

    private static (char Kind, int Size) ParseDescr(string descr, string source)
    {
        if (descr.Length >= 3 && descr[0] is '<' or '>' or '|' or '=' && descr[1] is 'f' or 'i' or 'u'
            && int.TryParse(descr.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int size))
        {
            char order = descr[0], kind = descr[1];
            bool supported = kind switch { 'f' => size is 4 or 8, 'i' => size is 1 or 2 or 4 or 8, _ => size is 1 or 2 };
            if (supported)
            {
                if (size > 1 && order == '>')
                    throw new DataFormatException(source, $"holds big-endian data ('{descr}'); this reader takes little-endian data only (numpy: array.astype('<{kind}{size}'))");
                if (size > 1 && order == '|')
                    throw new DataFormatException(source, $"has the type '{descr}', which gives no byte order for a {size}-byte type");
                return (kind, size);
            }
        }
        throw new DataFormatException(source,
            $"holds the unsupported type '{descr}'; supported: <f4, <f8, |i1, <i2, <i4, <i8, |u1, <u2");
    }

    /// <summary>Parses the Python dictionary literal of a <c>.npy</c> header: string keys; values strings, True/False,
    /// or tuples of integers.</summary>
    private sealed class HeaderParser
    {
        private readonly string text;
        private readonly string source;
        private int at;

        private HeaderParser(string text, string source)
        {
            this.text = text;
            this.source = source;
        }

        public static Dictionary<string, object> Parse(string text, string source) => new HeaderParser(text, source).Dictionary();

        private Dictionary<string, object> Dictionary()
        {
            var result = new Dictionary<string, object>(StringComparer.Ordinal);
            Expect('{');
            while (true)
            {
                SkipBlanks();
                if (Peek() == '}') { at++; break; }
                string key = String();
                Expect(':');
                result[key] = Value();
                SkipBlanks();
                if (Peek() == ',') { at++; continue; }
                Expect('}');
                break;
            }
            SkipBlanks();
            if (at != text.Length) throw Fail($"unexpected text after the dictionary at character {at + 1}");
            return result;
        }

        private object Value()
        {
            SkipBlanks();
            char c = Peek();
            if (c is '\'' or '"') return String();
            if (c == '(') return Tuple();
            if (Take("True")) return true;
            if (Take("False")) return false;
            if (c == '[') throw Fail("'descr' is not a string but a list of fields (a structured type), which this reader does not support");
            throw Fail($"unexpected '{c}' at character {at + 1}");
        }

        private IReadOnlyList<long> Tuple()
        {
            Expect('(');
            var items = new List<long>();
            while (true)
            {
                SkipBlanks();
                if (Peek() == ')') { at++; return items; }
                int start = at;
                while (at < text.Length && char.IsAsciiDigit(text[at])) at++;
                if (at == start) throw Fail($"expected a size at character {at + 1}");
                if (!long.TryParse(text.AsSpan(start, at - start), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
                    throw Fail($"the size {text[start..at]} is too large");
                if (at < text.Length && text[at] == 'L') at++; // Python 2 long literal
                items.Add(size);
                SkipBlanks();
                if (Peek() == ',') { at++; continue; }
                Expect(')');
                return items;
            }
        }

        private string String()
        {
            SkipBlanks();
            char quote = Peek();
            if (quote is not ('\'' or '"')) throw Fail($"expected a quoted string at character {at + 1}");
            int end = text.IndexOf(quote, at + 1);
            if (end < 0) throw Fail("a string is not closed");
            string value = text[(at + 1)..end];
            at = end + 1;
            return value;
        }

        private bool Take(string word)
        {
            if (string.CompareOrdinal(text, at, word, 0, word.Length) != 0) return false;
            at += word.Length;
            return true;
        }

        private void Expect(char c)
        {
            SkipBlanks();
            if (Peek() != c) throw Fail(at < text.Length ? $"expected '{c}' at character {at + 1}, found '{text[at]}'" : $"expected '{c}', found the end");
            at++;
        }

        private char Peek() => at < text.Length ? text[at] : '\0';

        private void SkipBlanks()
        {
            while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        }

        private DataFormatException Fail(string problem) => BadHeader(source, text, problem);
    }
}
