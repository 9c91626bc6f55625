using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text;
using NormalizingFlows.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Data;

/// <summary>Data files are untrusted: sizes they claim are checked against what is really there before anything of that
/// size is allocated, long lines and too many rows stop early, a cut gzip file is an error, and a value the asked-for
/// element type cannot hold is named by its row and column. Each crafted file is small.</summary>
public sealed class DataFileLimitsTests
{
    /// <summary>Bytes allocated on this thread by <paramref name="action"/> (managed memory).</summary>
    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>A version-1.0 .npy file with this header dictionary and data.</summary>
    private static byte[] Npy(string dict, byte[] data)
    {
        int headerLength = (10 + dict.Length + 1 + 63) / 64 * 64 - 10;
        var bytes = new MemoryStream();
        bytes.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        bytes.Write(BitConverter.GetBytes((ushort)headerLength));
        bytes.Write(Encoding.ASCII.GetBytes(dict.PadRight(headerLength - 1) + "\n"));
        bytes.Write(data);
        return bytes.ToArray();
    }

    private static byte[] Gzip(string text)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return output.ToArray();
    }

    private static string Rows(int count)
    {
        var text = new StringBuilder("a,b\n");
        for (int i = 0; i < count; i++) text.Append(CultureInfo.InvariantCulture, $"{i},{i * 0.5}\n");
        return text.ToString();
    }

    /// <summary>A stream that cannot seek, as a pipe or a decompressor.</summary>
    private sealed class ForwardOnly(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void Should_Reject_Npy_Without_Allocating_When_Shape_Claims_More_Than_The_File_Holds()
    {
        using var folder = new TempFolder();
        string path = folder.File("claims.npy");
        // 8 KB claiming 50 000 x 10 000 float64 values (4 GB).
        File.WriteAllBytes(path, Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (50000, 10000), }", new byte[8000]));
        DataFormatException? e = null;
        long allocated = Allocated(() => e = Assert.Throws<DataFormatException>(() => NpyFile.Read(path).Dispose()));
        Assert.StartsWith(path + ": is truncated", e!.Message, StringComparison.Ordinal);
        Assert.Contains("4000000000 bytes", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 16 << 20, $"Rejecting the file allocated {allocated} bytes.");
    }

    [Fact]
    public void Should_Reject_Npy_Without_Allocating_When_Stream_Cannot_Seek()
    {
        var file = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }", new byte[8000]);
        DataFormatException? e = null;
        long allocated = Allocated(() => e = Assert.Throws<DataFormatException>(() => NpyFile.Read(new ForwardOnly(new MemoryStream(file)), "pipe.npy").Dispose()));
        Assert.StartsWith("pipe.npy: is truncated", e!.Message, StringComparison.Ordinal);
        Assert.True(allocated < 16 << 20, $"Rejecting the stream allocated {allocated} bytes.");
    }

    [Fact]
    public void Should_Reject_Npy_When_Shape_Product_Overflows()
    {
        var file = Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", new byte[64]);
        var e = Assert.Throws<DataFormatException>(() => NpyFile.Read(new MemoryStream(file), "huge.npy").Dispose());
        Assert.StartsWith("huge.npy: the shape", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Name_Row_And_Column_When_Npy_Float64_Value_Is_Beyond_Float32_Range()
    {
        var values = new double[] { 1, 2, 3, 4, -1e300, 6 };
        var data = new byte[values.Length * 8];
        Buffer.BlockCopy(values, 0, data, 0, data.Length);
        var file = Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data);
        var e = Assert.Throws<DataFormatException>(() => NpyFile.Read(new MemoryStream(file), "big.npy", ScalarType.Float32).Dispose());
        Assert.StartsWith("big.npy: the value at row 3, column 1 is -1E+300, beyond the float32 range", e.Message, StringComparison.Ordinal);
        using var asDouble = NpyFile.Read(new MemoryStream(file), "big.npy");
        Assert.Equal(-1e300, asDouble[2, 0].ToDouble());
    }

    [Fact]
    public void Should_Name_File_Line_And_Column_When_Csv_Value_Is_Beyond_Float32_Range()
    {
        using var folder = new TempFolder();
        string path = folder.WriteText("big.csv", "x,y\n1,2\n3,1e300\n");
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(path).Dispose());
        Assert.StartsWith($"{path}:3:2: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("beyond the float32 range", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Reject_Long_Line_Without_Reading_It_When_Gzip_Inflates_To_One_Huge_Line()
    {
        using var folder = new TempFolder();
        string path = folder.File("one-line.csv.gz");
        // About 16 KB of gzip inflating to one line of 16 million digits (the default limit is 4 Mi characters).
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            var chunk = Encoding.ASCII.GetBytes(new string('1', 1 << 20));
            for (int i = 0; i < 16; i++) gzip.Write(chunk);
        }
        File.WriteAllBytes(path, output.ToArray());
        DataFormatException? e = null;
        long allocated = Allocated(() => e = Assert.Throws<DataFormatException>(() => TabularFile.Read(path).Dispose()));
        Assert.StartsWith($"{path}:1:1: the line is longer than {TabularReadOptions.DefaultMaxLineLength} characters", e!.Message, StringComparison.Ordinal);
        Assert.True(allocated < 100 << 20, $"Rejecting the line allocated {allocated} bytes.");
    }

    [Fact]
    public void Should_Reject_Line_When_Longer_Than_MaxLineLength()
    {
        using var folder = new TempFolder();
        string path = folder.WriteText("wide.csv", "1,2\n3," + new string(' ', 497) + "4\n");
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(path, new TabularReadOptions { MaxLineLength = 100 }).Dispose());
        Assert.StartsWith($"{path}:2:1: the line is longer than 100 characters", e.Message, StringComparison.Ordinal);
        using var table = TabularFile.Read(path, new TabularReadOptions { MaxLineLength = 502, DType = ScalarType.Float64 });
        Assert.Equal(2, table.Rows);
    }

    [Fact]
    public void Should_Reject_Rows_When_More_Than_MaxRows()
    {
        using var folder = new TempFolder();
        string path = folder.WriteText("rows.csv", Rows(11));
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(path, new TabularReadOptions { MaxRows = 10 }).Dispose());
        Assert.StartsWith($"{path}:12:1: the file has more than 10 data rows (TabularReadOptions.MaxRows; nflows --max-rows)", e.Message, StringComparison.Ordinal);
        using var table = TabularFile.Read(path, new TabularReadOptions { MaxRows = 11 });
        Assert.Equal(11, table.Rows);
    }

    [Fact]
    public void Should_Reject_Options_When_Limits_Are_Not_Positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TabularReadOptions { MaxLineLength = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TabularReadOptions { MaxRows = -1 }.Validate());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(-1)]
    public void Should_Reject_Gzip_When_File_Is_Truncated(int cut)
    {
        using var folder = new TempFolder();
        string path = folder.File("cut.csv.gz");
        var full = Gzip(Rows(20000));
        int length = cut > 0 ? full.Length - cut : full.Length / 3;
        File.WriteAllBytes(path, full.AsSpan(0, length).ToArray());
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated or damaged", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Read_Every_Member_When_Gzip_File_Has_Several()
    {
        using var folder = new TempFolder();
        string path = folder.File("members.csv.gz");
        var first = Gzip(Rows(3000));
        var second = Gzip(Rows(5000)["a,b\n".Length..]);
        File.WriteAllBytes(path, [.. first, .. second]);
        using var table = TabularFile.Read(path);
        Assert.Equal(8000, table.Rows);
    }

    [Fact]
    public void Should_Reject_Gzip_When_Content_Is_Damaged_After_Header()
    {
        using var folder = new TempFolder();
        string path = folder.File("flipped.csv.gz");
        var bytes = Gzip(Rows(2000));
        bytes[bytes.Length - 8] ^= 0x40;   // the trailer's CRC-32
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("gzip", e.Message, StringComparison.Ordinal);
    }
}
