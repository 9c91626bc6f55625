using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>Every way a model file can be unreadable gives a <see cref="ModelFileException"/> whose message starts with the
/// file's path and names the problem.</summary>
public sealed class ModelFileErrorTests : IDisposable
{
    private static readonly int[] Hidden = { 4 };
    private readonly TemporaryDirectory directory = new();
    private readonly string path;
    private readonly byte[] original;

    public ModelFileErrorTests()
    {
        path = directory.File("model.nflow");
        using var flow = Flows.RealNvp(2, 2, Hidden, seed: 1);
        flow.Save(path);
        original = File.ReadAllBytes(path);
    }

    /// <summary>Puts the intact model file back (before the next edit of the same test).</summary>
    private void Restore() => File.WriteAllBytes(path, original);

    public void Dispose() => directory.Dispose();

    private ModelFileException AssertLoadFails(params string[] fragments)
    {
        var error = Assert.Throws<ModelFileException>(() => Flow.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Equal(path, error.FilePath);
        foreach (var fragment in fragments) Assert.Contains(fragment, error.Message);
        return error;
    }

    [Fact]
    public void Should_Throw_FileNotFound_Naming_The_File_When_It_Does_Not_Exist()
    {
        string missing = directory.File("missing.nflow");
        var error = Assert.Throws<FileNotFoundException>(() => Flow.Load(missing));
        Assert.Contains(missing, error.Message);
        Assert.Equal(missing, error.FileName);
        Assert.Throws<FileNotFoundException>(() => ModelFile.ReadMetadata(missing));
    }

    [Fact]
    public void Should_Say_It_Is_Not_A_Model_File_When_The_File_Is_Not_A_Zip_Archive()
    {
        File.WriteAllText(path, "x,y\n1,2\n");
        AssertLoadFails("not a NormalizingFlows model file", "not a zip archive");
        File.WriteAllBytes(path, Array.Empty<byte>());
        AssertLoadFails("not a zip archive");
    }

    [Fact]
    public void Should_Say_The_File_Is_Truncated_When_It_Was_Cut_Short()
    {
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertLoadFails("truncated");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        AssertLoadFails("truncated");
    }

    [Fact]
    public void Should_Report_A_Checksum_Mismatch_When_Bytes_Inside_The_Weights_Are_Flipped()
    {
        var bytes = File.ReadAllBytes(path);
        int dataStart = EntryDataOffset(bytes, "weights.bin");
        for (int i = 40; i < 48; i++) bytes[dataStart + i] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        AssertLoadFails("weights.bin", "corrupt");
    }

    [Fact]
    public void Should_Report_Corruption_When_Bytes_Inside_The_Compressed_Architecture_Are_Flipped()
    {
        var bytes = File.ReadAllBytes(path);
        int dataStart = EntryDataOffset(bytes, "architecture.json");
        for (int i = 20; i < 28; i++) bytes[dataStart + i] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        AssertLoadFails("architecture.json", "corrupt");
    }

    [Fact]
    public void Should_Say_What_Is_Missing_When_The_Zip_Has_No_Architecture()
    {
        var entries = ModelFiles.ReadEntries(path).Where(e => e.Key != "architecture.json").ToList();
        ModelFiles.WriteEntries(path, entries);
        AssertLoadFails("no architecture.json entry", "weights.bin");
        Assert.Throws<ModelFileException>(() => ModelFile.ReadMetadata(path));
    }

    [Fact]
    public void Should_Say_What_Is_Missing_When_The_Zip_Has_No_Weights()
    {
        var entries = ModelFiles.ReadEntries(path).Where(e => e.Key != "weights.bin").ToList();
        ModelFiles.WriteEntries(path, entries);
        AssertLoadFails("no weights.bin entry");
    }

    [Fact]
    public void Should_Give_The_Position_When_The_Architecture_Is_Not_Valid_Json()
    {
        ModelFiles.EditArchitecture(path, text => "{\n  \"format\": \"nflows-model\",\n  \"formatVersion\": 1,,\n}");
        AssertLoadFails("architecture.json is not valid JSON", "line 3");
        Assert.Throws<ModelFileException>(() => ModelFile.ReadArchitecture(path));
    }

    [Fact]
    public void Should_Say_It_Is_Not_A_Model_File_When_The_Format_Name_Differs()
    {
        ModelFiles.EditArchitecture(path, root => root["format"] = "something-else");
        AssertLoadFails("not a NormalizingFlows model file", "'something-else'");
    }

    [Fact]
    public void Should_Ask_For_A_Newer_Library_When_The_Format_Version_Is_Newer()
    {
        ModelFiles.EditArchitecture(path, root => root["formatVersion"] = 99);
        AssertLoadFails("format version 99", "newer", "versions up to 1", "Update NormalizingFlows");
        Assert.Throws<ModelFileException>(() => ModelFile.ReadMetadata(path));
    }

    [Fact]
    public void Should_Name_The_Type_And_Its_Place_When_A_Type_Is_Unknown()
    {
        ModelFiles.EditArchitecture(path, root => root["model"]!["bijector"]!["layers"]![1]!["conditioner"]!["type"] = "Banana");
        AssertLoadFails("unknown type 'Banana'", "$.model.bijector.layers[1].conditioner", "ModelRegistry.Register");
    }

    [Fact]
    public void Should_Name_The_Property_When_A_Value_Is_Missing_Or_Of_The_Wrong_Kind()
    {
        ModelFiles.EditArchitecture(path, root => root["model"]!["bijector"]!["layers"]![0]!["conditioner"]!["inFeatures"] = "two");
        AssertLoadFails("$.model.bijector.layers[0].conditioner.inFeatures", "expected a 32-bit integer", "\"two\"");
        Restore();
        ModelFiles.EditArchitecture(path, root => root["model"]!["base"]!.AsObject().Remove("eventShape"));
        AssertLoadFails("$.model.base", "'eventShape' is missing");
        Restore();
        ModelFiles.EditArchitecture(path, root => root["model"]!["bijector"]!["layers"]![0]!["transform"]!["scaleMap"] = "Cubic");
        AssertLoadFails("'Cubic' is not a ScaleMap", "Exp, Sigmoid, SoftClamp");
    }

    [Fact]
    public void Should_Pass_On_The_Constructor_Message_When_A_Value_Is_Out_Of_Range()
    {
        ModelFiles.EditArchitecture(path, root => root["model"]!["bijector"]!["layers"]![0]!["transform"]!["bound"] = -1.0);
        var error = AssertLoadFails("$.model.bijector.layers[0].transform", "cannot build the AffineTransform", "bound");
        Assert.IsAssignableFrom<ArgumentException>(error.InnerException);
    }

    [Fact]
    public void Should_Name_The_Tensor_And_Both_Shapes_When_A_Shape_Differs()
    {
        ModelFiles.EditArchitecture(path, root => root["model"]!["bijector"]!["layers"]![0]!["conditioner"]!["hiddenFeatures"] = new JsonArray(5));
        AssertLoadFails("the weights do not fit the architecture", "'bijector.layers.0.conditioner.weights.0'",
            "shape [2, 4, 1] in weights.bin", "expects [2, 5, 1]");
    }

    [Fact]
    public void Should_Name_The_Missing_Tensors_When_The_Architecture_Has_A_Layer_More()
    {
        ModelFiles.EditArchitecture(path, root =>
        {
            var layers = root["model"]!["bijector"]!["layers"]!.AsArray();
            layers.Add(layers[0]!.DeepClone());
        });
        AssertLoadFails("'bijector.layers.2.conditioner.weights.0' [2, 4, 1] is missing from weights.bin", "more");
    }

    [Fact]
    public void Should_Name_The_Extra_Tensors_When_The_Architecture_Has_A_Layer_Less()
    {
        ModelFiles.EditArchitecture(path, root => root["model"]!["bijector"]!["layers"]!.AsArray().RemoveAt(1));
        AssertLoadFails("weights.bin holds tensor 'bijector.layers.1.conditioner.weights.0' [2, 4, 1], which the model described by architecture.json does not have");
    }

    [Fact]
    public void Should_Say_The_Weights_Are_Damaged_When_The_Tensor_List_Is_Cut_Short()
    {
        var entries = ModelFiles.ReadEntries(path);
        var edited = entries.Select(e => e.Key == "weights.bin" ? new System.Collections.Generic.KeyValuePair<string, byte[]>(e.Key, e.Value[..^6]) : e).ToList();
        ModelFiles.WriteEntries(path, edited);
        AssertLoadFails("weights.bin is damaged", "ends inside");
    }

    [Fact]
    public void Should_Say_Which_Kind_Of_Model_It_Holds_When_Loading_A_Flow_From_A_Distribution_File()
    {
        using (var normal = new StandardNormal(2)) normal.Save(path);
        AssertLoadFails("it holds a StandardNormal (a Distribution), not a Flow", "ModelFile.Load");
        using var loaded = ModelFile.Load(path);
        Assert.IsType<StandardNormal>(loaded);
    }

    [Fact]
    public void Should_Say_Which_Kind_Of_Model_It_Holds_When_Loading_A_Distribution_From_A_Bijector_File()
    {
        using (var chain = new Chain(new LuLinear(2), Permutation.Reverse(2))) ModelFile.Save(chain, path);
        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains("it holds a Chain (a Bijector), not a Distribution", error.Message);
        Assert.Throws<ModelFileException>(() => Flow.Load(path));
        using var bijector = ModelFile.LoadModule<Bijector>(path);
        Assert.IsType<Chain>(bijector);
    }

    [Fact]
    public void Should_Say_What_Was_Expected_When_A_Part_Is_Of_The_Wrong_Kind()
    {
        ModelFiles.EditArchitecture(path, root => root["model"]!["base"] = new JsonObject { ["type"] = "LuLinear", ["features"] = 2, ["outputOrder"] = null });
        AssertLoadFails("$.model.base", "expected a Distribution here; found a LuLinear");
    }

    [Fact]
    public void Should_Throw_NotSupported_Naming_The_Type_When_A_Part_Is_Not_Registered()
    {
        string target = directory.File("unregistered.nflow");
        using var flow = new Flow(new StandardNormal(2), new Chain(new LuLinear(2), new UnregisteredBijector()));
        var error = Assert.Throws<NotSupportedException>(() => flow.Save(target));
        Assert.Contains(typeof(UnregisteredBijector).FullName!, error.Message);
        Assert.Contains("ModelRegistry.Register<UnregisteredBijector>", error.Message);
        Assert.False(File.Exists(target));
        Assert.Equal(new[] { "model.nflow" }, directory.FileNames());
    }

    /// <summary>The offset of the first data byte of the entry <paramref name="name"/>, from its local file header.</summary>
    private static int EntryDataOffset(byte[] zip, string name)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name);
        for (int i = 0; i + 30 < zip.Length; i++)
        {
            if (zip[i] != 0x50 || zip[i + 1] != 0x4B || zip[i + 2] != 3 || zip[i + 3] != 4) continue;
            int nameLength = BitConverter.ToUInt16(zip, i + 26);
            int extraLength = BitConverter.ToUInt16(zip, i + 28);
            if (nameLength == nameBytes.Length && zip.AsSpan(i + 30, nameLength).SequenceEqual(nameBytes)) return i + 30 + nameLength + extraLength;
        }
        throw new InvalidOperationException($"No local header for {name}.");
    }

    private sealed class UnregisteredBijector : Bijector
    {
        public UnregisteredBijector() : base(nameof(UnregisteredBijector), new long[] { 2 })
        {
        }

        protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) =>
            (x.alias(), torch.zeros(x.shape[0], dtype: x.dtype));

        protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) =>
            (y.alias(), torch.zeros(y.shape[0], dtype: y.dtype));
    }
}
