using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using NormalizingFlows.Data;
using NormalizingFlows.Serialization;

namespace NormalizingFlows.Internal;

/// <summary>
/// Decompresses a gzip file and, at its end, checks what came out against the file's trailer (the CRC-32 and the length
/// modulo 2^32 of the last member), so that a truncated or damaged file is an error instead of a shorter content:
/// .NET's <see cref="GZipStream"/> ends quietly where a cut file ends.
/// </summary>
/// <remarks>A file of several members (<c>cat a.gz b.gz</c>, bgzip) is checked against its last member: the CRC-32 of the
/// output's last <c>ISIZE</c> bytes is derived from the running CRC-32s recorded at each read (a read never spans two
/// members). Failures are <see cref="DataFormatException"/>s naming the file.</remarks>
internal sealed class CheckedGzipStream : Stream
{
    private readonly FileStream file;
    private readonly GZipStream gzip;
    private readonly string source;
    private readonly uint trailerCrc;
    private readonly uint trailerLength;
    private readonly List<(long Length, uint Crc)> boundaries = new() { (0, 0) };
    private uint crc;
    private long length;
    private bool checkedEnd;

    /// <summary>Opens <paramref name="path"/> (a gzip file) for reading.</summary>
    /// <exception cref="DataFormatException">The file is too short to be gzip data.</exception>
    public CheckedGzipStream(string path)
    {
        source = path;
        file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            if (file.Length < 18)
                throw new DataFormatException(path, $"is not valid gzip data: {file.Length} bytes, fewer than the 18 of the smallest gzip file");
            Span<byte> trailer = stackalloc byte[8];
            file.Seek(-8, SeekOrigin.End);
            file.ReadExactly(trailer);
            trailerCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
            file.Seek(0, SeekOrigin.Begin);
            gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        int n;
        try
        {
            n = gzip.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(source, $"is not valid gzip data ({e.Message})", e);
        }
        if (n > 0)
        {
            crc = Crc32.Append(crc, buffer[..n]);
            length += n;
            boundaries.Add((length, crc));
            return n;
        }
        CheckEnd();
        return 0;
    }

    private void CheckEnd()
    {
        if (checkedEnd) return;
        checkedEnd = true;
        if ((uint)length == trailerLength && crc == trailerCrc) return;
        // Several members: the last one is the output's last ISIZE bytes (mod 2^32), starting at a recorded read boundary.
        for (long start = length - trailerLength; start > 0; start -= 1L << 32)
        {
            int at = boundaries.BinarySearch((start, 0), Comparer<(long Length, uint Crc)>.Create((a, b) => a.Length.CompareTo(b.Length)));
            if (at >= 0 && Crc32.Suffix(crc, boundaries[at].Crc, length - start) == trailerCrc) return;
        }
        throw new DataFormatException(source,
            $"is truncated or damaged: {length} bytes decompressed, but its gzip trailer records {trailerLength} bytes (mod 2^32) " +
            $"with CRC-32 {trailerCrc:X8} (the data gives {crc:X8}). Was the file copied or written only in part?");
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => length;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            gzip.Dispose();
            file.Dispose();
        }
        base.Dispose(disposing);
    }
}
