using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace NormalizingFlows.Plotting.Tests.Support;

/// <summary>
/// An independent reader of animated PNG files for the tests: checks every chunk's CRC (bit by bit, not with the writer's
/// table), reads acTL and the fcTL sequence, and rebuilds each frame as a standalone PNG that an ordinary decoder reads.
/// </summary>
public sealed class ApngFile
{
    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };

    private ApngFile(List<(string Type, byte[] Data)> chunks)
    {
        Chunks = chunks;
        var control = chunks.Single(c => c.Type == "acTL").Data;
        DeclaredFrames = BinaryPrimitives.ReadInt32BigEndian(control.AsSpan(0, 4));
        Loops = BinaryPrimitives.ReadInt32BigEndian(control.AsSpan(4, 4));
    }

    public List<(string Type, byte[] Data)> Chunks { get; }

    public int DeclaredFrames { get; }

    public int Loops { get; }

    public IEnumerable<(string Type, byte[] Data)> FrameControls => Chunks.Where(c => c.Type == "fcTL");

    public static ApngFile Read(byte[] bytes)
    {
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(Signature), "Not a PNG signature.");
        var chunks = new List<(string, byte[])>();
        int position = 8;
        while (position < bytes.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(position, 4));
            string type = Encoding.ASCII.GetString(bytes, position + 4, 4);
            var data = bytes.AsSpan(position + 8, length).ToArray();
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(position + 8 + length, 4));
            Assert.Equal(Crc(bytes.AsSpan(position + 4, 4 + length)), crc);
            chunks.Add((type, data));
            position += 12 + length;
        }
        Assert.Equal("IEND", chunks[^1].Item1);
        return new ApngFile(chunks);
    }

    /// <summary>Sequence numbers of fcTL and fdAT chunks in file order.</summary>
    public IEnumerable<int> SequenceNumbers =>
        Chunks.Where(c => c.Type is "fcTL" or "fdAT").Select(c => BinaryPrimitives.ReadInt32BigEndian(c.Data.AsSpan(0, 4)));

    /// <summary>Delay of each frame in milliseconds.</summary>
    public IEnumerable<double> Delays => FrameControls.Select(c =>
        1000.0 * BinaryPrimitives.ReadUInt16BigEndian(c.Data.AsSpan(20, 2)) / BinaryPrimitives.ReadUInt16BigEndian(c.Data.AsSpan(22, 2)));

    /// <summary>Each frame as a standalone PNG: the header (and the palette, for a palette image), then that frame's image data as IDAT.</summary>
    public List<byte[]> Frames()
    {
        var header = Chunks.Single(c => c.Type == "IHDR").Data;
        var palette = Chunks.Where(c => c.Type is "PLTE" or "tRNS").ToList();
        var frames = new List<byte[]>();
        List<byte[]>? current = null;
        foreach (var (type, data) in Chunks)
        {
            if (type == "fcTL")
            {
                if (current is not null) frames.Add(Png(header, palette, current));
                current = new List<byte[]>();
            }
            else if (type == "IDAT" && current is not null) current.Add(data);
            else if (type == "fdAT" && current is not null) current.Add(data.AsSpan(4).ToArray());
        }
        if (current is not null) frames.Add(Png(header, palette, current));
        return frames;
    }

    public static uint Crc(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    private static byte[] Png(byte[] header, List<(string Type, byte[] Data)> palette, List<byte[]> data)
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        WriteChunk(output, "IHDR", header);
        foreach (var (type, chunk) in palette) WriteChunk(output, type, chunk);
        foreach (var d in data) WriteChunk(output, "IDAT", d);
        WriteChunk(output, "IEND", Array.Empty<byte>());
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        var buffer = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(buffer, data.Length);
        Encoding.ASCII.GetBytes(type, 0, 4, buffer, 4);
        data.CopyTo(buffer, 8);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8 + data.Length), Crc(buffer.AsSpan(4, 4 + data.Length)));
        output.Write(buffer);
    }
}
