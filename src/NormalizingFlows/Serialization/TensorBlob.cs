using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Serialization;

/// <summary>
/// A list of named tensors as bytes, and back, with an exact round trip of names, order, element types, shapes and values.
/// </summary>
/// <remarks>
/// <para>Layout (all integers little-endian): the magic <c>NFTB</c>, a <c>uint32</c> version (1), a <c>uint32</c> count, then
/// per tensor: a <c>uint16</c> name length and the name in UTF-8, one byte element type (1 float32, 2 float64, 3 float16,
/// 4 bfloat16, 5 int64, 6 int32, 7 int16, 8 int8, 9 uint8, 10 bool), one byte rank, <c>rank</c> <c>int64</c> sizes, an
/// <c>int64</c> byte count and the values in row-major order, each element little-endian.</para>
/// <para>Why not TorchSharp's own <c>Module.save</c> format: that format can only be read back into a module that matches it
/// exactly and reports a mismatch in its own terms, while this one is read on its own first, so that a missing, extra or
/// wrong-shaped tensor is reported by name, with both shapes, before anything is copied. It does not depend on the
/// TorchSharp version, and it serves any list of tensors (optimizer state in a checkpoint, for instance).</para>
/// </remarks>
internal static class TensorBlob
{
    private const uint Version = 1;
    private static ReadOnlySpan<byte> Magic => "NFTB"u8;

    /// <summary>Writes the tensors (any device; copied to the CPU) to a new byte array.</summary>
    public static byte[] Write(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        using var stream = new MemoryStream();
        var header = new byte[12];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), checked((uint)list.Count));
        stream.Write(header);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in list)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            if (!names.Add(name)) throw new ArgumentException($"The tensor name '{name}' appears twice.", nameof(tensors));
            WriteOne(stream, name, tensor);
        }
        return stream.ToArray();
    }

    /// <summary>Reads tensors written by <see cref="Write"/>: fresh CPU tensors, in their written order, that the caller owns.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a tensor blob, are cut short, or are inconsistent (the message says how).</exception>
    public static List<KeyValuePair<string, Tensor>> Read(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data);
        if (data.Length < 12 || !data[..4].SequenceEqual(Magic))
            throw new InvalidDataException("it does not start with the tensor-list marker NFTB.");
        reader.Skip(4);
        uint version = reader.UInt32();
        if (version != Version) throw new InvalidDataException($"its tensor-list version is {version}; this library reads version {Version}.");
        uint count = reader.UInt32();
        var result = new List<KeyValuePair<string, Tensor>>();
        try
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (uint i = 0; i < count; i++)
            {
                var (name, tensor) = ReadOne(ref reader, i);
                result.Add(new(name, tensor));
                if (!names.Add(name)) throw new InvalidDataException($"the tensor name '{name}' appears twice.");
            }
            if (reader.Remaining != 0) throw new InvalidDataException($"{reader.Remaining} bytes follow the last of its {count} tensors.");
        }
        catch
        {
            foreach (var (_, tensor) in result) tensor.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>The number of values (elements of all tensors) a blob holds, read from its headers alone: nothing is
    /// allocated, and every declared size is checked against the bytes really there.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Read"/>.</exception>
    public static long CountValues(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data);
        if (data.Length < 12 || !data[..4].SequenceEqual(Magic))
            throw new InvalidDataException("it does not start with the tensor-list marker NFTB.");
        reader.Skip(4);
        uint version = reader.UInt32();
        if (version != Version) throw new InvalidDataException($"its tensor-list version is {version}; this library reads version {Version}.");
        uint count = reader.UInt32();
        long values = 0;
        for (uint i = 0; i < count; i++)
        {
            var (name, _, shape, byteCount) = ReadHeader(ref reader, i);
            reader.Bytes((int)byteCount, $"the values of tensor '{name}'");
            values = checked(values + shape.Aggregate(1L, (a, b) => a * b));
        }
        if (reader.Remaining != 0) throw new InvalidDataException($"{reader.Remaining} bytes follow the last of its {count} tensors.");
        return values;
    }

    private static void WriteOne(Stream stream, string name, Tensor tensor)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length > ushort.MaxValue) throw new ArgumentException($"The tensor name '{name[..40]}...' is longer than {ushort.MaxValue} bytes.", nameof(name));
        byte code = Code(tensor.dtype, name);
        long[] shape = tensor.shape;
        if (shape.Length > byte.MaxValue) throw new ArgumentException($"Tensor '{name}' has {shape.Length} dimensions; at most {byte.MaxValue} are supported.", nameof(tensor));
        byte[] values;
        using (var scope = torch.NewDisposeScope())
        {
            var cpu = tensor.detach().cpu().contiguous();
            values = cpu.numel() == 0 ? Array.Empty<byte>() : cpu.bytes.ToArray();
        }
        int elementSize = ElementSize(code);
        if (!BitConverter.IsLittleEndian) ReverseElements(values, elementSize);
        var header = new byte[2 + nameBytes.Length + 2 + 8 * shape.Length + 8];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)nameBytes.Length);
        nameBytes.CopyTo(span[2..]);
        int offset = 2 + nameBytes.Length;
        span[offset++] = code;
        span[offset++] = (byte)shape.Length;
        foreach (long size in shape)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[offset..], size);
            offset += 8;
        }
        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], values.LongLength);
        stream.Write(header);
        stream.Write(values);
    }

    private static (string Name, Tensor Tensor) ReadOne(ref SpanReader reader, uint index)
    {
        var (name, code, shape, byteCount) = ReadHeader(ref reader, index);
        var dtype = DType(code, name);
        var values = reader.Bytes((int)byteCount, $"the values of tensor '{name}'");
        var tensor = torch.empty(shape, dtype);
        if (byteCount > 0)
        {
            var target = tensor.bytes;
            values.CopyTo(target);
            if (!BitConverter.IsLittleEndian) ReverseElements(target, ElementSize(code));
        }
        return (name, tensor);
    }

    /// <summary>One tensor's header, checked: its byte count matches its shape (the caller then takes that many bytes, which
    /// fails if fewer are left).</summary>
    private static (string Name, byte Code, long[] Shape, long ByteCount) ReadHeader(ref SpanReader reader, uint index)
    {
        int nameLength = reader.UInt16();
        string name = Encoding.UTF8.GetString(reader.Bytes(nameLength, $"the name of tensor {index}"));
        byte code = reader.Byte();
        _ = DType(code, name);
        int rank = reader.Byte();
        var shape = new long[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = reader.Int64();
            if (shape[d] < 0) throw new InvalidDataException($"tensor '{name}' has a negative size {shape[d]}.");
            if (shape[d] > 0 && elements > int.MaxValue / shape[d])
                throw new InvalidDataException($"tensor '{name}' has a shape too large for a model file (more than {int.MaxValue} elements).");
            elements *= shape[d];
        }
        long byteCount = reader.Int64();
        long expected = elements * ElementSize(code);
        if (byteCount != expected)
            throw new InvalidDataException($"tensor '{name}' of shape [{string.Join(", ", shape)}] should hold {expected} bytes of values; the file says {byteCount}.");
        if (byteCount > int.MaxValue) throw new InvalidDataException($"tensor '{name}' holds {byteCount} bytes; at most {int.MaxValue} per tensor are supported.");
        return (name, code, shape, byteCount);
    }

    private static byte Code(ScalarType dtype, string name) => dtype switch
    {
        ScalarType.Float32 => 1,
        ScalarType.Float64 => 2,
        ScalarType.Float16 => 3,
        ScalarType.BFloat16 => 4,
        ScalarType.Int64 => 5,
        ScalarType.Int32 => 6,
        ScalarType.Int16 => 7,
        ScalarType.Int8 => 8,
        ScalarType.Byte => 9,
        ScalarType.Bool => 10,
        _ => throw new NotSupportedException($"Tensor '{name}' has element type {dtype}, which model files do not support."),
    };

    private static ScalarType DType(byte code, string name) => code switch
    {
        1 => ScalarType.Float32,
        2 => ScalarType.Float64,
        3 => ScalarType.Float16,
        4 => ScalarType.BFloat16,
        5 => ScalarType.Int64,
        6 => ScalarType.Int32,
        7 => ScalarType.Int16,
        8 => ScalarType.Int8,
        9 => ScalarType.Byte,
        10 => ScalarType.Bool,
        _ => throw new InvalidDataException($"tensor '{name}' has the unknown element-type code {code}."),
    };

    private static int ElementSize(byte code) => code switch
    {
        1 or 6 => 4,
        2 or 5 => 8,
        3 or 4 or 7 => 2,
        _ => 1,
    };

    private static void ReverseElements(Span<byte> values, int elementSize)
    {
        if (elementSize == 1) return;
        for (int i = 0; i + elementSize <= values.Length; i += elementSize) values.Slice(i, elementSize).Reverse();
    }

    /// <summary>Reads little-endian values from a span, with errors that say what was cut short.</summary>
    private ref struct SpanReader
    {
        private readonly ReadOnlySpan<byte> data;
        private int position;

        public SpanReader(ReadOnlySpan<byte> data)
        {
            this.data = data;
            position = 0;
        }

        public readonly int Remaining => data.Length - position;

        public void Skip(int count) => Bytes(count, "the header");

        public byte Byte() => Bytes(1, "a tensor header")[0];

        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, "a tensor header"));

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, "the header"));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8, "a tensor header"));

        public ReadOnlySpan<byte> Bytes(int count, string what)
        {
            if (count < 0 || count > Remaining)
                throw new InvalidDataException($"it ends inside {what}: {count} bytes needed at offset {position}, {Remaining} left.");
            var span = data.Slice(position, count);
            position += count;
            return span;
        }
    }
}
