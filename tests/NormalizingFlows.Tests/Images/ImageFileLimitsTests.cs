using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using NormalizingFlows.Data;
using NormalizingFlows.Images;
using NormalizingFlows.Serialization;
using NormalizingFlows.Tests.Data;
using NormalizingFlows.Tests.Support;

namespace NormalizingFlows.Tests.Images;

/// <summary>Images are untrusted: the dimensions in the header are checked against a pixel limit before any pixel memory is
/// allocated.</summary>
public sealed class ImageFileLimitsTests
{
    /// <summary>One PNG chunk: length, type, data, CRC-32 of type and data.</summary>
    private static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.Compute(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    /// <summary>A PNG of a few dozen bytes whose header claims <paramref name="width"/> x <paramref name="height"/> RGB pixels.</summary>
    internal static byte[] ClaimingPng(int width, int height)
    {
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;   // bit depth
        header[9] = 2;   // RGB
        var file = new MemoryStream();
        file.Write(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A });
        file.Write(Chunk("IHDR", header));
        file.Write(Chunk("IDAT", new byte[] { 0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 }));
        file.Write(Chunk("IEND", Array.Empty<byte>()));
        return file.ToArray();
    }

    [Fact]
    public void Should_Reject_Image_Before_Decoding_When_Header_Claims_20000_By_20000_Pixels()
    {
        using var folder = new TempFolder();
        string path = folder.File("claims.png");
        var bytes = ClaimingPng(20000, 20000);
        Assert.True(bytes.Length < 100, $"The crafted PNG has {bytes.Length} bytes.");
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => ImageFile.Read(path).Dispose());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith(path + ": the Png header declares 20000 x 20000 = 400000000 pixels, more than the limit of 67108864", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 16 << 20, $"Rejecting the image allocated {allocated} bytes.");
    }

    [Fact]
    public void Should_Reject_Image_When_Larger_Than_The_Given_Pixel_Limit()
    {
        string path = SharedData.PathOf("camera.png");
        var e = Assert.Throws<DataFormatException>(() => ImageFile.Read(path, ImageColor.Grey, maxPixels: 512 * 511).Dispose());
        Assert.Contains("512 x 512", e.Message, StringComparison.Ordinal);
        using var image = ImageFile.Read(path, ImageColor.Grey, maxPixels: 512 * 512);
        Assert.Equal(new long[] { 1, 512, 512 }, image.shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFile.Read(path, ImageColor.Grey, maxPixels: 0));
    }

    [Fact]
    public void Should_Reject_Small_Claiming_Image_When_Decoding_Finds_No_Pixels()
    {
        using var folder = new TempFolder();
        string path = folder.File("empty-data.png");
        File.WriteAllBytes(path, ClaimingPng(300, 200));
        var e = Assert.Throws<DataFormatException>(() => ImageFile.Read(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
    }
}
