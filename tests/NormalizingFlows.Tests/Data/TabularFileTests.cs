using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using NormalizingFlows.Data;
using NormalizingFlows.Internal;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Data;

/// <summary>Text tables: the real files, formats, headers, every malformed input (with its file, line and field in the
/// message), and bit-exact CSV round trips.</summary>
public sealed class TabularFileTests
{
    private static DataFormatException ReadFails(string path, string text, TabularReadOptions? options = null)
    {
        File.WriteAllText(path, text);
        return Assert.Throws<DataFormatException>(() => TabularFile.Read(path, options).Dispose());
    }

    private static void AssertAt(DataFormatException e, string path, long line, int column, string fragment)
    {
        Assert.StartsWith($"{path}:{line}:{column}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.SourceName);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
    }

    [Fact]
    public void Should_Read_Randhie_With_Its_Header_When_File_Is_Real()
    {
        string path = SharedData.PathOf("randhie.csv");
        using var table = TabularFile.Read(path, new TabularReadOptions { DType = ScalarType.Float64 });
        Assert.True(table.ColumnNamesFromHeader);
        Assert.Equal(new[] { "mdvis", "lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp" }, table.ColumnNames);
        Assert.Equal(20190, table.Rows);
        Assert.Equal(ScalarType.Float64, table.Values.dtype);
        Assert.Equal(new[] { 0, 4.61512, 1, 6.907755, 0, 0, 13.73189, 1, 0, 0 }, table.Values[0].data<double>().ToArray());

        // Column sums against an independent reading of the same file.
        var lines = File.ReadAllLines(path).Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var expected = Enumerable.Range(0, 10).Select(c => lines.Sum(r => r[c])).ToArray();
        var actual = table.Values.sum(new long[] { 0 }).data<double>().ToArray();
        for (int c = 0; c < 10; c++) Assert.Equal(expected[c], actual[c], 1e-9 * (1 + Math.Abs(expected[c])));
    }

    [Fact]
    public void Should_Read_Gzipped_Digits_Without_Header_When_File_Is_Real()
    {
        using var table = TabularFile.Read(SharedData.PathOf("digits.csv.gz"));
        Assert.False(table.ColumnNamesFromHeader);
        Assert.Equal(1797, table.Rows);
        Assert.Equal(65, table.Columns);
        Assert.Equal("x0", table.ColumnNames[0]);
        Assert.Equal("x64", table.ColumnNames[64]);
        Assert.Equal(ScalarType.Float32, table.Values.dtype);
        var first = table.Values[0].data<float>().ToArray();
        Assert.Equal(new float[] { 0, 0, 5, 13, 9, 1, 0, 0 }, first[..8]);
        Assert.Equal(0f, first[64]);
        var pixels = table.Values[.., ..64];
        Assert.Equal(0.0, pixels.min().ToDouble());
        Assert.Equal(16.0, pixels.max().ToDouble());
        var labels = table.Values[.., 64];
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), labels.unique().Item1.data<float>().ToArray());
    }

    [Fact]
    public void Should_Split_On_Any_Whitespace_And_Skip_Comments_When_Text_Has_No_Commas()
    {
        using var folder = new TempFolder();
        string path = folder.WriteText("points.txt", "# two points\n\n  1 2\t3  \n\t# indented comment\n4    5 -6.5e-1\n\n");
        using var table = TabularFile.Read(path, new TabularReadOptions { DType = ScalarType.Float64 });
        Assert.Equal(new[] { 1.0, 2, 3, 4, 5, -0.65 }, table.Values.reshape(-1).data<double>().ToArray());
        Assert.Equal(new[] { "x0", "x1", "x2" }, table.ColumnNames);
    }

    [Fact]
    public void Should_Detect_Csv_When_Extension_Is_Not_Csv_But_Line_Has_Commas()
    {
        using var folder = new TempFolder();
        string path = folder.WriteText("table.dat", "a, b\n1.5, 2\n");
        using var table = TabularFile.Read(path);
        Assert.Equal(new[] { "a", "b" }, table.ColumnNames);
        Assert.Equal(new[] { 1.5f, 2f }, table.Values.reshape(-1).data<float>().ToArray());
    }

    [Fact]
    public void Should_Read_Whitespace_Header_When_Format_Is_Forced()
    {
        using var reader = new StringReader("alpha beta\n1 2\n3 4\n");
        using var table = TabularFile.Read(reader, "stdin", new TabularReadOptions { Format = TabularFormat.Whitespace });
        Assert.Equal(new[] { "alpha", "beta" }, table.ColumnNames);
        Assert.Equal(new long[] { 2, 2 }, table.Values.shape);
    }

    [Fact]
    public void Should_Read_Quoted_Header_Names_With_Commas_And_Quotes()
    {
        using var reader = new StringReader("\"a,b\", \"say \"\"hi\"\"\" ,c\n1,2,3\n");
        using var table = TabularFile.Read(reader, "quoted.csv");
        Assert.Equal(new[] { "a,b", "say \"hi\"", "c" }, table.ColumnNames);
        Assert.Equal(new[] { 1f, 2f, 3f }, table.Values.reshape(-1).data<float>().ToArray());
    }

    [Fact]
    public void Should_Read_Quoted_Numbers_And_Strip_Byte_Order_Mark()
    {
        using var reader = new StringReader("\uFEFF\"1.25\",\"-3\"\n");
        using var table = TabularFile.Read(reader, "quoted.csv");
        Assert.Equal(new[] { 1.25f, -3f }, table.Values.reshape(-1).data<float>().ToArray());
    }

    [Fact]
    public void Should_Take_First_Line_As_Data_Or_Header_When_Forced()
    {
        using (var table = TabularFile.Read(new StringReader("1,2\n3,4\n"), "s.csv", new TabularReadOptions { HasHeader = true }))
        {
            Assert.Equal(new[] { "1", "2" }, table.ColumnNames);
            Assert.Equal(1, table.Rows);
        }
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(new StringReader("a,b\n3,4\n"), "s.csv", new TabularReadOptions { HasHeader = false }));
        AssertAt(e, "s.csv", 1, 1, "field 1 is not a number: \"a\"");
    }

    [Fact]
    public void Should_Parse_Invariant_Culture_When_Current_Culture_Uses_Decimal_Commas()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            using var table = TabularFile.Read(new StringReader("1.5 1e-3 -2\n"), "s.txt", new TabularReadOptions { DType = ScalarType.Float64 });
            Assert.Equal(new[] { 1.5, 1e-3, -2 }, table.Values.reshape(-1).data<double>().ToArray());
            var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(new StringReader("1 2\n1,5 2\n"), "s.txt", new TabularReadOptions { Format = TabularFormat.Whitespace }));
            AssertAt(e, "s.txt", 2, 1, "field 1 is not a number: \"1,5\"");
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Should_Name_File_Line_And_Field_When_Field_Is_Not_A_Number()
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.csv");
        var e = ReadFails(path, "# comment\nage,height\n1,2\n3,abc\n");
        AssertAt(e, path, 4, 2, "field 2 (\"height\") is not a number: \"abc\"");
    }

    [Theory]
    [InlineData("-inf", "is not a number: \"-inf\"")]
    [InlineData("NA", "is not a number: \"NA\"")]
    [InlineData("1.0.0", "is not a number: \"1.0.0\"")]
    [InlineData("1 000", "is not a number: \"1 000\"")]
    [InlineData("NaN", "is NaN")]
    [InlineData("Infinity", "is infinite")]
    [InlineData("-Infinity", "is infinite")]
    [InlineData("1e999", "is infinite or beyond the float64 range")]
    public void Should_Reject_Non_Numbers_And_Non_Finite_Values(string field, string fragment)
    {
        using var folder = new TempFolder();
        string path = folder.File("values.csv");
        var e = ReadFails(path, $"x,y,z\n1,2,3\n4,5,{field}\n", new TabularReadOptions { DType = ScalarType.Float64 });
        AssertAt(e, path, 3, 3, $"field 3 (\"z\") {fragment}");
    }

    [Fact]
    public void Should_Reject_Value_Beyond_Float32_Range_When_Reading_Float32()
    {
        using var folder = new TempFolder();
        string path = folder.File("big.csv");
        var e = ReadFails(path, "1,2\n3,1e39\n");
        AssertAt(e, path, 2, 2, "beyond the float32 range");
        using var table = TabularFile.Read(path, new TabularReadOptions { DType = ScalarType.Float64 });
        Assert.Equal(1e39, table.Values[1, 1].ToDouble());
    }

    [Fact]
    public void Should_Reject_Empty_Field()
    {
        using var folder = new TempFolder();
        string path = folder.File("empty-field.csv");
        var e = ReadFails(path, "1,2,3\n4,,6\n");
        AssertAt(e, path, 2, 2, "field 2 is empty");
    }

    [Fact]
    public void Should_Name_Expected_And_Actual_Field_Counts_When_Row_Is_Short_Or_Long()
    {
        using var folder = new TempFolder();
        string path = folder.File("ragged.csv");
        var shortRow = ReadFails(path, "a,b,c\n1,2,3\n4,5\n");
        AssertAt(shortRow, path, 3, 3, "expected 3 fields (as the header on line 1); got 2");
        string text = folder.File("ragged.txt");
        var longRow = ReadFails(text, "\n1 2 3\n4 5 6 7\n");
        AssertAt(longRow, text, 3, 4, "expected 3 fields (as the first row, line 2); got 4");
    }

    [Fact]
    public void Should_Reject_Source_Without_Data_Rows()
    {
        using var folder = new TempFolder();
        string path = folder.File("empty.csv");
        AssertAt(ReadFails(path, ""), path, 1, 1, "no data rows");
        AssertAt(ReadFails(path, "# only a comment\n\n"), path, 3, 1, "no data rows");
        AssertAt(ReadFails(path, "a,b\n"), path, 2, 1, "no data rows after the header on line 1");
    }

    [Fact]
    public void Should_Reject_Unclosed_Quote()
    {
        using var folder = new TempFolder();
        string path = folder.File("quote.csv");
        AssertAt(ReadFails(path, "\"a,b\n1,2\n"), path, 1, 1, "a quoted field is not closed");
        AssertAt(ReadFails(path, "\"a\"x,b\n1,2\n"), path, 1, 1, "unexpected text after the closing quote");
    }

    [Fact]
    public void Should_Throw_File_Not_Found_When_Path_Does_Not_Exist()
    {
        using var folder = new TempFolder();
        string path = folder.File("missing.csv");
        var e = Assert.Throws<FileNotFoundException>(() => TabularFile.Read(path));
        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Name_File_When_Gzip_Data_Is_Corrupt()
    {
        using var folder = new TempFolder();
        string path = folder.File("broken.csv.gz");
        File.WriteAllBytes(path, new byte[] { 0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 });
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("gzip", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Name_Stream_When_Reading_Text()
    {
        var e = Assert.Throws<DataFormatException>(() => TabularFile.Read(new StringReader("1 2\n3 x\n"), "stdin"));
        Assert.StartsWith("stdin:2:2: field 2 is not a number", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Reject_Bad_Options()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TabularFile.Read(new StringReader("1\n"), "s", new TabularReadOptions { DType = ScalarType.Int64 }));
        Assert.Equal("DType", e.ParamName);
    }

    private static Tensor HardValues(ScalarType dtype)
    {
        using var generator = new Generator(3);
        var random = torch.randn(new long[] { 200, 3 }, dtype: ScalarType.Float64, generator: generator).mul(torch.tensor(new[] { 1e-30, 1.0, 1e30 }, dtype: ScalarType.Float64));
        var special = dtype == ScalarType.Float32
            ? torch.tensor(new[] { 0.1f, -0f, float.Epsilon, float.MaxValue, -float.MaxValue, 1f / 3, 16777217f, 1e-38f, 123456.789f }, new long[] { 3, 3 })
            : torch.tensor(new[] { 0.1, -0.0, double.Epsilon, double.MaxValue, -double.MaxValue, 1.0 / 3, 9007199254740993.0, 2.2250738585072014e-308, 123456.789 }, new long[] { 3, 3 });
        return torch.cat(new[] { random.to(dtype), special }, 0);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Should_Round_Trip_Bitwise_When_Writing_Then_Reading(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        string path = folder.File("values.csv");
        var data = HardValues(dtype);
        TabularFile.Write(path, data, new[] { "tiny", "one", "huge" });
        using var table = TabularFile.Read(path, new TabularReadOptions { DType = dtype });
        Assert.Equal(new[] { "tiny", "one", "huge" }, table.ColumnNames);
        Assert.Equal(data.shape, table.Values.shape);
        Assert.Equal(data.bytes.ToArray(), table.Values.bytes.ToArray());
    }

    [Fact]
    public void Should_Round_Trip_Through_Gzip_And_Quote_Header_Names()
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        string path = folder.File("samples.csv.gz");
        var data = torch.tensor(new[] { 1.5, -2.25, 3, 4 }, new long[] { 2, 2 });
        string[] header = { "a,b", " padded " };
        TabularFile.Write(path, data, header);
        using (var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip))
            Assert.Equal("\"a,b\",\" padded \"\n1.5,-2.25\n3,4\n", reader.ReadToEnd());
        using var table = TabularFile.Read(path, new TabularReadOptions { DType = ScalarType.Float64 });
        Assert.Equal(header, table.ColumnNames);
        Assert.Equal(data.data<double>().ToArray(), table.Values.reshape(-1).data<double>().ToArray());
    }

    [Fact]
    public void Should_Write_One_Column_For_Vector_And_Integers_Exactly()
    {
        using var scope = torch.NewDisposeScope();
        var writer = new StringWriter();
        TabularFile.Write(writer, torch.tensor(new[] { -1.5f, float.NegativeInfinity }), new[] { "log_prob" });
        Assert.Equal("log_prob\n-1.5\n-Infinity\n", writer.ToString());
        writer = new StringWriter();
        TabularFile.Write(writer, torch.tensor(new long[] { long.MaxValue, -3 }, new long[] { 1, 2 }));
        Assert.Equal("9223372036854775807,-3\n", writer.ToString());
    }

    [Fact]
    public void Should_Keep_Old_File_And_Leave_No_Temporary_File_When_Write_Fails()
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        string path = folder.WriteText("out.csv", "old\n");
        var data = torch.ones(2, 3);
        var e = Assert.Throws<ArgumentException>(() => TabularFile.Write(path, data, new[] { "a", "b" }));
        Assert.Equal("header", e.ParamName);
        Assert.Contains("Expected 3 header names", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TabularFile.Write(path, torch.ones(2, 2, 2)));
        Assert.Throws<ArgumentException>(() => TabularFile.Write(path, torch.ones(2, 2).gt(0)));
        Assert.Equal("old\n", File.ReadAllText(path));

        TabularFile.Write(path, data);
        Assert.Equal("1,1,1\n1,1,1\n", File.ReadAllText(path));
        Assert.Equal(new[] { "out.csv" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Should_Keep_Old_File_And_Remove_Temporary_File_When_Writing_Fails_Midway()
    {
        using var folder = new TempFolder();
        string path = folder.WriteText("out.csv", "old\n");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(Encoding.ASCII.GetBytes("new partial content"));
            throw new IOException("disk full");
        }));
        Assert.Equal("disk full", e.Message);
        Assert.Equal("old\n", File.ReadAllText(path));
        Assert.Equal(new[] { "out.csv" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));

        string missing = Path.Combine(folder.Path, "no-such-folder", "out.csv");
        using var scope = torch.NewDisposeScope();
        var notFound = Assert.Throws<DirectoryNotFoundException>(() => TabularFile.Write(missing, torch.ones(1, 1)));
        Assert.Contains(missing, notFound.Message, StringComparison.Ordinal);
    }
}
