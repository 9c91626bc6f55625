using System;
using System.IO;
using System.Linq;
using System.Text;
using NormalizingFlows.Data;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Data;

/// <summary>NumPy .npy files: the real file, hand-built files of each version and type, round trips, and every malformed
/// file named with its problem.</summary>
public sealed class NpyFileTests
{
    /// <summary>A .npy file as NumPy lays it out: magic, version, header length, the header dictionary padded with spaces
    /// to a multiple of 64 bytes and ended by a newline, then the data.</summary>
    private static byte[] Npy(string dict, byte[] data, int major = 1, int minor = 0)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        int prefix = 6 + 2 + lengthBytes;
        int headerLength = (prefix + dict.Length + 1 + 63) / 64 * 64 - prefix;
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(dict.PadRight(headerLength - 1) + "\n");
        var bytes = new MemoryStream();
        bytes.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, (byte)minor });
        if (lengthBytes == 2) bytes.Write(BitConverter.GetBytes((ushort)header.Length));
        else bytes.Write(BitConverter.GetBytes((uint)header.Length));
        bytes.Write(header);
        bytes.Write(data);
        return bytes.ToArray();
    }

    private static byte[] Bytes<T>(params T[] values) where T : struct =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static Tensor ReadBytes(byte[] file, ScalarType? dtype = null) => NpyFile.Read(new MemoryStream(file), "test.npy", dtype);

    [Fact]
    public void Should_Read_Lfw_Faces_When_File_Is_Real()
    {
        string path = SharedData.PathOf("lfw_subset.npy");
        using var faces = NpyFile.Read(path);
        Assert.Equal(new long[] { 200, 25, 25 }, faces.shape);
        Assert.Equal(ScalarType.Float64, faces.dtype);
        // Against the raw bytes: this file's header is 70 bytes, so the data starts at byte 80.
        var raw = File.ReadAllBytes(path);
        Assert.Equal(80 + 200 * 25 * 25 * 8, raw.Length);
        Assert.Equal(BitConverter.ToDouble(raw, 80), faces[0, 0, 0].ToDouble());
        Assert.Equal(BitConverter.ToDouble(raw, raw.Length - 8), faces[199, 24, 24].ToDouble());
        Assert.Equal(BitConverter.ToDouble(raw, 80 + (1 * 625 + 2 * 25 + 3) * 8), faces[1, 2, 3].ToDouble());
        Assert.True(faces.min().ToDouble() >= 0 && faces.max().ToDouble() <= 1, "Grey levels of the crops lie in [0, 1].");
    }

    [Fact]
    public void Should_Read_Hand_Built_Int16_Version_1_File_As_Int64()
    {
        var file = Npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }", Bytes<short>(-32768, -1, 0, 1, 2, 32767));
        using var values = ReadBytes(file);
        Assert.Equal(ScalarType.Int64, values.dtype);
        Assert.Equal(new long[] { 2, 3 }, values.shape);
        Assert.Equal(new long[] { -32768, -1, 0, 1, 2, 32767 }, values.reshape(-1).data<long>().ToArray());
    }

    [Fact]
    public void Should_Read_Hand_Built_Uint8_File_As_Int64_Or_As_Asked()
    {
        var file = Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", new byte[] { 0, 1, 128, 255 });
        using var values = ReadBytes(file);
        Assert.Equal(ScalarType.Int64, values.dtype);
        Assert.Equal(new long[] { 0, 1, 128, 255 }, values.data<long>().ToArray());
        using var asFloat = ReadBytes(file, ScalarType.Float32);
        Assert.Equal(new[] { 0f, 1f, 128f, 255f }, asFloat.data<float>().ToArray());
    }

    [Theory]
    [InlineData("|i1")]
    [InlineData("<i1")]
    public void Should_Read_Signed_Bytes(string descr)
    {
        var file = Npy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}", new byte[] { 0x80, 0xff, 0x7f });
        using var values = ReadBytes(file);
        Assert.Equal(new long[] { -128, -1, 127 }, values.data<long>().ToArray());
    }

    [Fact]
    public void Should_Read_Unsigned_Shorts_And_Wide_Integers()
    {
        using (var u2 = ReadBytes(Npy("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", Bytes<ushort>(0, 65535))))
            Assert.Equal(new long[] { 0, 65535 }, u2.data<long>().ToArray());
        using (var i4 = ReadBytes(Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", Bytes(int.MinValue, int.MaxValue))))
            Assert.Equal(new long[] { int.MinValue, int.MaxValue }, i4.data<long>().ToArray());
        using (var i8 = ReadBytes(Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", Bytes(long.MinValue))))
            Assert.Equal(long.MinValue, i8[0, 0].ToInt64());
    }

    [Fact]
    public void Should_Read_Version_2_And_3_Headers()
    {
        using (var v2 = ReadBytes(Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", Bytes(1.5, -2.0), major: 2)))
        {
            Assert.Equal(ScalarType.Float64, v2.dtype);
            Assert.Equal(new[] { 1.5, -2.0 }, v2.data<double>().ToArray());
        }
        using var v3 = ReadBytes(Npy("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 2)}", Bytes(0.25f, 8f), major: 3));
        Assert.Equal(ScalarType.Float32, v3.dtype);
        Assert.Equal(new long[] { 1, 2 }, v3.shape);
        Assert.Equal(new[] { 0.25f, 8f }, v3.reshape(-1).data<float>().ToArray());
    }

    [Fact]
    public void Should_Read_Scalar_And_Empty_Arrays()
    {
        using (var scalar = ReadBytes(Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", Bytes(3.5))))
        {
            Assert.Empty(scalar.shape);
            Assert.Equal(3.5, scalar.ToDouble());
        }
        using var empty = ReadBytes(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", Array.Empty<byte>()));
        Assert.Equal(new long[] { 0, 3 }, empty.shape);
    }

    [Theory]
    [InlineData(ScalarType.Float32, new long[] { 7, 3 })]
    [InlineData(ScalarType.Float64, new long[] { 2, 3, 4 })]
    [InlineData(ScalarType.Int64, new long[] { 5 })]
    [InlineData(ScalarType.Float64, new long[] { })]
    [InlineData(ScalarType.Float32, new long[] { 0, 2 })]
    public void Should_Round_Trip_Bitwise_When_Writing_Then_Reading(ScalarType dtype, long[] shape)
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        string path = folder.File("array.npy");
        using var generator = new Generator(5);
        var data = dtype == ScalarType.Int64
            ? torch.randint(-(1L << 61), 1L << 61, shape, dtype: ScalarType.Int64, generator: generator)
            : torch.randn(shape, dtype: dtype, generator: generator).mul(1e10);
        NpyFile.Write(path, data);
        var read = NpyFile.Read(path);
        Assert.Equal(dtype, read.dtype);
        Assert.Equal(shape, read.shape);
        Assert.Equal(data.bytes.ToArray(), read.bytes.ToArray());

        var raw = File.ReadAllBytes(path);
        Assert.Equal(1, raw[6]);
        int dataStart = 10 + BitConverter.ToUInt16(raw, 8);
        Assert.Equal(0, dataStart % 64);
        Assert.Equal('\n', (char)raw[dataStart - 1]);
        Assert.Equal(data.numel() * data.element_size(), raw.Length - dataStart);
    }

    [Theory]
    [InlineData(ScalarType.Int32, "<i4")]
    [InlineData(ScalarType.Int16, "<i2")]
    [InlineData(ScalarType.Int8, "|i1")]
    [InlineData(ScalarType.Byte, "|u1")]
    public void Should_Write_Narrow_Integers_That_Read_Back_As_Int64(ScalarType dtype, string descr)
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        string path = folder.File("ints.npy");
        var data = torch.tensor(new long[] { 0, 1, 100, 127 }).to(dtype);
        NpyFile.Write(path, data);
        Assert.Contains($"'descr': '{descr}', 'fortran_order': False, 'shape': (4,), }}", Encoding.ASCII.GetString(File.ReadAllBytes(path)), StringComparison.Ordinal);
        var read = NpyFile.Read(path);
        Assert.Equal(ScalarType.Int64, read.dtype);
        Assert.Equal(new long[] { 0, 1, 100, 127 }, read.data<long>().ToArray());
        Assert.Equal(dtype, NpyFile.Read(path, dtype).dtype);
    }

    [Fact]
    public void Should_Reject_Writing_Unsupported_Type()
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        var e = Assert.Throws<ArgumentException>(() => NpyFile.Write(folder.File("b.npy"), torch.ones(2).gt(0)));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("Bool", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    private static void AssertFails(byte[] file, string fragment)
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.npy");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<DataFormatException>(() => NpyFile.Read(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.Null(e.Line);
    }

    private const string Good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";

    [Fact]
    public void Should_Reject_Bad_Magic()
    {
        var file = Npy(Good, Bytes(1.0, 2.0));
        file[1] = (byte)'X';
        AssertFails(file, "is not a .npy file");
        AssertFails(Encoding.ASCII.GetBytes("1,2,3\n"), "is not a .npy file");
        AssertFails(Array.Empty<byte>(), "is not a .npy file");
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(1, 1)]
    [InlineData(0, 0)]
    public void Should_Reject_Unsupported_Version(int major, int minor)
    {
        AssertFails(SetVersion(Npy(Good, Bytes(1.0, 2.0)), major, minor), $"version {major}.{minor}");
    }

    private static byte[] SetVersion(byte[] file, int major, int minor)
    {
        file[6] = (byte)major;
        file[7] = (byte)minor;
        return file;
    }

    [Fact]
    public void Should_Reject_Big_Endian_Data() =>
        AssertFails(Npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", new byte[16]), "big-endian");

    [Fact]
    public void Should_Reject_Fortran_Order() =>
        AssertFails(Npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", new byte[32]), "Fortran");

    [Fact]
    public void Should_Read_Fortran_Order_When_Only_One_Dimension_Is_Longer_Than_One()
    {
        using var values = ReadBytes(Npy("{'descr': '<f8', 'fortran_order': True, 'shape': (1, 3), }", Bytes(1.0, 2.0, 3.0)));
        Assert.Equal(new long[] { 1, 3 }, values.shape);
        Assert.Equal(new[] { 1.0, 2.0, 3.0 }, values.reshape(-1).data<double>().ToArray());
    }

    [Theory]
    [InlineData("<f2")]
    [InlineData("<c16")]
    [InlineData("|b1")]
    [InlineData("<U5")]
    [InlineData("|O")]
    [InlineData("<u4")]
    public void Should_Name_Unsupported_Type(string descr) =>
        AssertFails(Npy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", new byte[64]), $"unsupported type '{descr}'");

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, }", "the key 'shape' is missing")]
    [InlineData("{'descr': '<f8', 'shape': (2,), }", "the key 'fortran_order' is missing")]
    [InlineData("{'fortran_order': False, 'shape': (2,), }", "the key 'descr' is missing")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", "expected a size")]
    [InlineData("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", "'descr' is not a string")]
    [InlineData("not a dictionary", "expected '{'")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2,) ", "expected '}'")]
    public void Should_Reject_Header_That_Cannot_Be_Parsed(string dict, string fragment)
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.npy");
        File.WriteAllBytes(path, Npy(dict, new byte[16]));
        var e = Assert.Throws<DataFormatException>(() => NpyFile.Read(path));
        Assert.StartsWith(path + ": has a header that cannot be parsed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Reject_Truncated_Data_And_Header()
    {
        var full = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", new byte[48]);
        AssertFails(full[..^1], "is truncated: the shape (3, 4) of '<f4' needs 48 bytes of data; the file holds 47");
        AssertFails(full[..20], "is truncated inside its header");
        AssertFails(full[..9], "is truncated inside its header");
    }

    [Fact]
    public void Should_Throw_File_Not_Found_When_Path_Does_Not_Exist()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => NpyFile.Read(folder.File("none.npy")));
        Assert.Contains("none.npy", e.Message, StringComparison.Ordinal);
    }
}
