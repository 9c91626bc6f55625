using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>
/// Writes an animated PNG (APNG) from frames that are PNG files of one size and pixel format.
/// </summary>
/// <remarks>
/// <para>Why APNG and this small writer rather than a library: SkiaSharp (already here for ScottPlot) decodes GIF but
/// encodes neither GIF nor APNG; SixLabors.ImageSharp encodes both but is under the Six Labors Split License, which needs a
/// paid licence for many commercial users of a library that depends on it; Magick.NET brings a large native ImageMagick;
/// the small GIF packages are unmaintained or need System.Drawing (Windows only). An APNG is a PNG whose frames reuse
/// PNG's own compressed image data, so the writer only re-packages the chunks that SkiaSharp's PNG encoder produced:
/// no LZW or colour quantisation (GIF's 256-colour palette would band the viridis gradients), full 24-bit colour, and
/// about a hundred lines. Every current browser plays APNG (the HTML report embeds it); a viewer without APNG support
/// shows the first frame, which is a complete image.</para>
/// <para>Layout written: signature, the first frame's <c>IHDR</c>, <c>acTL</c> (frame count, loop count), the first frame's
/// other chunks before its image data (e.g. <c>sRGB</c>), then per frame an <c>fcTL</c> (size, delay) and its data: the first
/// frame's <c>IDAT</c> chunks as they are (it is also the default image), later frames' as <c>fdAT</c> chunks (sequence
/// number + the same bytes), and <c>IEND</c>. Sequence numbers run over <c>fcTL</c> and <c>fdAT</c> from 0.</para>
/// </remarks>
internal static class AnimatedPng
{
    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Combines PNG frames into one APNG.</summary>
    /// <param name="frames">PNG files, all with the same IHDR (size, bit depth, colour type).</param>
    /// <param name="delaysMilliseconds">How long each frame shows, one per frame, each 1 to 65535 ms.</param>
    /// <param name="loops">How many times to play; 0 = forever.</param>
    /// <exception cref="ArgumentException">No frames, a frame that is not a PNG, frames of different sizes or formats, or a bad delay.</exception>
    public static byte[] Encode(IReadOnlyList<byte[]> frames, IReadOnlyList<int> delaysMilliseconds, int loops = 0)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(delaysMilliseconds);
        if (frames.Count == 0) throw new ArgumentException("Expected at least one frame in frames; got none.", nameof(frames));
        if (delaysMilliseconds.Count != frames.Count)
            throw new ArgumentException($"Expected one delay per frame ({frames.Count}); got {delaysMilliseconds.Count}.", nameof(delaysMilliseconds));
        if (loops < 0) throw new ArgumentOutOfRangeException(nameof(loops), loops, $"Expected loops >= 0 (0 = forever); got {loops}.");

        var parsed = frames.Select((frame, i) => ReadChunks(frame, i)).ToArray();
        var header = parsed[0].Single(c => c.Type == "IHDR").Data;
        for (int i = 1; i < parsed.Length; i++)
        {
            if (!parsed[i].Single(c => c.Type == "IHDR").Data.AsSpan().SequenceEqual(header))
                throw new ArgumentException($"Expected every frame with the first frame's size and pixel format; frame {i} differs.", nameof(frames));
        }
        int width = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(0, 4));
        int height = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4, 4));

        using var output = new MemoryStream();
        output.Write(Signature);
        WriteChunk(output, "IHDR", header);
        var control = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(control.AsSpan(0, 4), frames.Count);
        BinaryPrimitives.WriteInt32BigEndian(control.AsSpan(4, 4), loops);
        WriteChunk(output, "acTL", control);
        // Ancillary chunks of the first frame that must precede the image data (colour space, gamma, palette...).
        foreach (var chunk in parsed[0].TakeWhile(c => c.Type != "IDAT").Where(c => c.Type != "IHDR"))
            WriteChunk(output, chunk.Type, chunk.Data);

        int sequence = 0;
        for (int i = 0; i < parsed.Length; i++)
        {
            int delay = delaysMilliseconds[i];
            if (delay < 1 || delay > ushort.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(delaysMilliseconds), delay, $"Expected delays between 1 and 65535 ms; frame {i} has {delay}.");
            WriteChunk(output, "fcTL", FrameControl(sequence++, width, height, delay));
            foreach (var chunk in parsed[i].Where(c => c.Type == "IDAT"))
            {
                if (i == 0)
                {
                    WriteChunk(output, "IDAT", chunk.Data);
                }
                else
                {
                    var data = new byte[4 + chunk.Data.Length];
                    BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(0, 4), sequence++);
                    chunk.Data.CopyTo(data, 4);
                    WriteChunk(output, "fdAT", data);
                }
            }
        }
        WriteChunk(output, "IEND", Array.Empty<byte>());
        return output.ToArray();
    }

    /// <summary>The chunks of a PNG file in order (type and data), with their CRCs checked.</summary>
    /// <exception cref="ArgumentException">The bytes are not a well-formed PNG.</exception>
    public static List<(string Type, byte[] Data)> ReadChunks(byte[] png, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(png);
        if (png.Length < Signature.Length || !png.AsSpan(0, Signature.Length).SequenceEqual(Signature))
            throw new ArgumentException($"Frame {index} is not a PNG file (wrong signature).", nameof(png));
        var chunks = new List<(string, byte[])>();
        int position = Signature.Length;
        while (position + 12 <= png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(position, 4));
            if (length < 0 || position + 12L + length > png.Length)
                throw new ArgumentException($"Frame {index} has a chunk that runs past the end of the file.", nameof(png));
            string type = System.Text.Encoding.ASCII.GetString(png, position + 4, 4);
            var data = png.AsSpan(position + 8, length).ToArray();
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position + 8 + length, 4));
            if (stored != Crc(png.AsSpan(position + 4, 4 + length)))
                throw new ArgumentException($"Frame {index} has a {type} chunk with a wrong CRC.", nameof(png));
            chunks.Add((type, data));
            position += 12 + length;
            if (type == "IEND") return chunks;
        }
        throw new ArgumentException($"Frame {index} has no IEND chunk.", nameof(png));
    }

    /// <summary>The CRC-32 (ISO 3309, as PNG uses it) of <paramref name="bytes"/>.</summary>
    public static uint Crc(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFF;
    }

    private static byte[] FrameControl(int sequence, int width, int height, int delayMilliseconds)
    {
        var data = new byte[26];
        var span = data.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span[0..4], sequence);
        BinaryPrimitives.WriteInt32BigEndian(span[4..8], width);
        BinaryPrimitives.WriteInt32BigEndian(span[8..12], height);
        // x and y offsets (8..16) stay 0: every frame covers the whole image.
        BinaryPrimitives.WriteUInt16BigEndian(span[20..22], (ushort)delayMilliseconds);
        BinaryPrimitives.WriteUInt16BigEndian(span[22..24], 1000);
        data[24] = 0; // dispose: none (the next frame covers everything)
        data[25] = 0; // blend: source (replace, so transparent pixels do not show the previous frame)
        return data;
    }

    /// <summary>Writes one PNG chunk: length, type, data and CRC.</summary>
    internal static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeAndData = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type, 0, 4, typeAndData, 0);
        data.CopyTo(typeAndData, 4);
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typeAndData));
        output.Write(word);
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
