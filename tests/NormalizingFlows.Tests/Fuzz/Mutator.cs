using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace NormalizingFlows.Tests.Fuzz;

/// <summary>Seeded corruptions of valid files: bit flips, truncation, length and size fields set to extremes, repeated
/// chunks, and for zip archives edits of one entry (with a valid checksum, so the content's own checks are reached) and
/// duplicated entries.</summary>
internal sealed class Mutator(int seed)
{
    private static readonly long[] Extremes = { 0, 1, -1, 255, 65535, int.MaxValue, uint.MaxValue, 1L << 31, 1L << 40, long.MaxValue, long.MinValue };

    private readonly Random random = new(seed);

    /// <summary>A random index below <paramref name="count"/>.</summary>
    public int Next(int count) => random.Next(count);

    /// <summary>One corruption of <paramref name="bytes"/> (a new array), chosen at random.</summary>
    public byte[] Mutate(byte[] bytes) => random.Next(5) switch
    {
        0 => FlipBits(bytes),
        1 => Truncate(bytes),
        2 => OverwriteField(bytes),
        3 => RepeatChunk(bytes),
        _ => FlipBits(OverwriteField(bytes)),
    };

    /// <summary>Flips 1 to 8 random bits.</summary>
    public byte[] FlipBits(byte[] bytes)
    {
        var copy = bytes.ToArray();
        if (copy.Length == 0) return copy;
        int flips = 1 + random.Next(8);
        for (int i = 0; i < flips; i++) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    /// <summary>Cuts the bytes at a random length.</summary>
    public byte[] Truncate(byte[] bytes) => bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();

    /// <summary>Writes an extreme value as a 2-, 4- or 8-byte little- or big-endian field at a random offset (length and size
    /// fields of every format are of this kind).</summary>
    public byte[] OverwriteField(byte[] bytes)
    {
        var copy = bytes.ToArray();
        int width = new[] { 2, 4, 8 }[random.Next(3)];
        if (copy.Length < width) return copy;
        int at = random.Next(copy.Length - width + 1);
        long value = Extremes[random.Next(Extremes.Length)];
        var field = copy.AsSpan(at, width);
        bool little = random.Next(2) == 0;
        switch (width)
        {
            case 2:
                if (little) BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)value);
                else BinaryPrimitives.WriteUInt16BigEndian(field, (ushort)value);
                break;
            case 4:
                if (little) BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)value);
                else BinaryPrimitives.WriteUInt32BigEndian(field, (uint)value);
                break;
            default:
                if (little) BinaryPrimitives.WriteInt64LittleEndian(field, value);
                else BinaryPrimitives.WriteInt64BigEndian(field, value);
                break;
        }
        return copy;
    }

    /// <summary>Repeats a random chunk of up to 64 bytes in place.</summary>
    public byte[] RepeatChunk(byte[] bytes)
    {
        if (bytes.Length == 0) return bytes;
        int start = random.Next(bytes.Length);
        int length = 1 + random.Next(Math.Min(64, bytes.Length - start));
        return [.. bytes.AsSpan(0, start + length), .. bytes.AsSpan(start, length), .. bytes.AsSpan(start + length)];
    }

    /// <summary>The entries of a zip archive, by name, in order.</summary>
    public static List<KeyValuePair<string, byte[]>> Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var result = new List<KeyValuePair<string, byte[]>>();
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            result.Add(new(entry.FullName, buffer.ToArray()));
        }
        return result;
    }

    /// <summary>A zip archive with exactly these entries.</summary>
    public static byte[] Zip(IEnumerable<KeyValuePair<string, byte[]>> entries)
    {
        var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                using var stream = archive.CreateEntry(name).Open();
                stream.Write(bytes);
            }
        }
        return output.ToArray();
    }

    /// <summary>The archive with one entry (or, for <paramref name="only"/>, that entry) corrupted inside a valid zip, or an
    /// entry duplicated.</summary>
    public byte[] MutateEntry(byte[] zip, params string[] only)
    {
        var entries = Entries(zip);
        if (random.Next(6) == 0)
        {
            var duplicate = entries[random.Next(entries.Count)];
            entries.Insert(random.Next(entries.Count + 1), duplicate);
            return Zip(entries);
        }
        var candidates = entries.Select((e, i) => (e.Key, i)).Where(p => only.Length == 0 || only.Contains(p.Key)).ToArray();
        int index = candidates[random.Next(candidates.Length)].i;
        entries[index] = new(entries[index].Key, Mutate(entries[index].Value));
        return Zip(entries);
    }
}
