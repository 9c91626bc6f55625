using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using NormalizingFlows.Serialization;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>Model files are untrusted: every size they declare is checked against <see cref="ModelFileLimits"/> and against
/// the bytes really there before anything is allocated or built. Each crafted file is small.</summary>
public sealed class ModelFileLimitsTests : IDisposable
{
    private static readonly int[] Hidden = { 4 };
    private readonly TemporaryDirectory directory = new();
    private readonly string path;

    public ModelFileLimitsTests()
    {
        path = directory.File("model.nflow");
        using var flow = Flows.RealNvp(2, 2, Hidden, seed: 1);
        flow.Save(path);
    }

    public void Dispose() => directory.Dispose();

    /// <summary>Loading fails with a <see cref="ModelFileException"/> naming the file and each fragment, allocating little.</summary>
    private ModelFileException AssertLoadFails(ModelFileLimits? limits, params string[] fragments)
    {
        ModelFileException? error = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path, limits: limits).Dispose());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        if (!fragments.All(f => error.Message.Contains(f, StringComparison.Ordinal))) Assert.Fail(error.Message);
        Assert.Equal(path, error.FilePath);
        foreach (var fragment in fragments) Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 100 << 20, $"Rejecting the file allocated {allocated} bytes.");
        return error;
    }

    /// <summary>Rewrites architecture.json with <paramref name="edit"/> applied to every object in it.</summary>
    private void EditObjects(Action<JsonObject> edit) => ModelFiles.EditArchitecture(path, text =>
    {
        var root = JsonNode.Parse(text)!;
        Visit(root, edit);
        return root.ToJsonString();
    });

    private static void Visit(JsonNode? node, Action<JsonObject> edit)
    {
        if (node is JsonObject obj)
        {
            edit(obj);
            foreach (var (_, value) in obj.ToArray()) Visit(value, edit);
        }
        else if (node is JsonArray array)
        {
            foreach (var item in array.ToArray()) Visit(item, edit);
        }
    }

    /// <summary>Overwrites a field of the central-directory record of <paramref name="entry"/> (offset 20: compressed size,
    /// 24: uncompressed size).</summary>
    private void PatchCentralDirectory(string entry, int offset, uint value)
    {
        var bytes = File.ReadAllBytes(path);
        var name = Encoding.UTF8.GetBytes(entry);
        for (int i = 0; i + 46 < bytes.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)) != 0x02014b50) continue;
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i + 28));
            if (!bytes.AsSpan(i + 46, nameLength).SequenceEqual(name)) continue;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i + offset), value);
            File.WriteAllBytes(path, bytes);
            return;
        }
        throw new InvalidOperationException($"No central-directory record for {entry}.");
    }

    [Fact]
    public void Should_Reject_Hidden_Widths_Before_Building_When_The_Weights_Do_Not_Cover_Them()
    {
        EditObjects(o => { if (o.ContainsKey("hiddenFeatures")) o["hiddenFeatures"] = new JsonArray(3000, 3000); });
        Assert.True(new FileInfo(path).Length < 10_000);
        AssertLoadFails(null, "architecture.json at $.model", "describes at least 36", "parameters but weights.bin holds only");
        // The case: four couplings of 12000 x 12000 are also over the default parameter limit.
        EditObjects(o => { if (o.ContainsKey("hiddenFeatures")) o["hiddenFeatures"] = new JsonArray(12000, 12000); });
        AssertLoadFails(null, "describes at least 576096000 parameters, more than the limit of 250000000 (ModelFileLimits.MaxParameters; nflows --max-model-parameters)");
    }

    [Fact]
    public void Should_Reject_A_Width_When_It_Is_Over_MaxWidth()
    {
        EditObjects(o => { if (o.ContainsKey("hiddenFeatures")) o["hiddenFeatures"] = new JsonArray(100000); });
        AssertLoadFails(null, "hiddenFeatures[0]", "the width 100000 is more than the limit of 65536 (ModelFileLimits.MaxWidth)");
        AssertLoadFails(new ModelFileLimits { MaxWidth = 3 }, "the width");
    }

    [Fact]
    public void Should_Reject_An_Event_When_It_Is_Over_MaxEventSize()
    {
        EditObjects(o => { if (o["type"]?.GetValue<string>() == "StandardNormal") o["eventShape"] = new JsonArray(65536, 65536); });
        AssertLoadFails(null, "$.model.base", "an event of 4294967296 values is more than the limit of 16777216 (ModelFileLimits.MaxEventSize)");
    }

    [Fact]
    public void Should_Reject_Many_Layers_When_Over_MaxParts()
    {
        EditObjects(o =>
        {
            if (o["type"]?.GetValue<string>() != "Chain") return;
            var layers = new JsonArray();
            for (int i = 0; i < 12_000; i++) layers.Add(new JsonObject { ["type"] = "Tanh", ["eventShape"] = new JsonArray(2) });
            o["layers"] = layers;
        });
        AssertLoadFails(null, "more than 10000 parts (ModelFileLimits.MaxParts)");
    }

    [Fact]
    public void Should_Load_Only_Within_The_Given_Limits_When_Limits_Are_Passed()
    {
        using (var model = ModelFile.Load(path, limits: ModelFileLimits.Default)) Assert.NotNull(model);
        AssertLoadFails(new ModelFileLimits { MaxParts = 2 }, "ModelFileLimits.MaxParts");
        AssertLoadFails(new ModelFileLimits { MaxParameters = 10 }, "weights.bin holds", "more than the limit of 10 (ModelFileLimits.MaxParameters; nflows --max-model-parameters)");
        AssertLoadFails(new ModelFileLimits { MaxArchitectureBytes = 100 }, "the entry architecture.json inflates to", "ModelFileLimits.MaxArchitectureBytes");
        AssertLoadFails(new ModelFileLimits { MaxInflatedBytes = 1000 }, "ModelFileLimits.MaxInflatedBytes");
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelFile.Load(path, limits: new ModelFileLimits { MaxWidth = 0 }));
    }

    [Fact]
    public void Should_Reject_A_Zip_Entry_Before_Inflating_When_It_Declares_More_Than_Deflate_Can_Produce()
    {
        PatchCentralDirectory("architecture.json", 24, 1_900_000_000);
        AssertLoadFails(null, "the zip entry architecture.json declares 1900000000 bytes inflated from", "more than deflate can produce");
    }

    [Fact]
    public void Should_Reject_A_Zip_Entry_When_It_Declares_More_Compressed_Bytes_Than_The_File_Has()
    {
        PatchCentralDirectory("weights.bin", 20, 50_000_000);
        AssertLoadFails(null, "the zip entry weights.bin declares 50000000 compressed bytes, but the whole file has");
    }

    [Fact]
    public void Should_Reject_A_Zip_Entry_When_It_Inflates_To_More_Than_It_Declares()
    {
        var entries = ModelFiles.ReadEntries(path);
        int length = entries.Single(e => e.Key == "architecture.json").Value.Length;
        PatchCentralDirectory("architecture.json", 24, (uint)(length - 10));
        AssertLoadFails(null, "the entry architecture.json is corrupt");
    }

    [Fact]
    public void Should_Reject_An_Architecture_Bomb_Without_Inflating_It()
    {
        // 32 MiB of spaces compress to about 32 KB; the default limit for architecture.json is 16 MiB.
        var entries = ModelFiles.ReadEntries(path);
        var padded = entries.Select(e => e.Key == "architecture.json"
            ? new KeyValuePair<string, byte[]>(e.Key, [.. e.Value, .. Enumerable.Repeat((byte)' ', 32 << 20)])
            : e).ToList();
        ModelFiles.WriteEntries(path, padded);
        Assert.True(new FileInfo(path).Length < 1 << 20);
        AssertLoadFails(null, "the entry architecture.json inflates to", "ModelFileLimits.MaxArchitectureBytes");
    }

    [Fact]
    public void Should_Reject_Duplicate_Zip_Entries()
    {
        var entries = ModelFiles.ReadEntries(path);
        var weights = entries.Single(e => e.Key == "weights.bin");
        ModelFiles.WriteEntries(path, entries.Append(weights));
        AssertLoadFails(null, "the zip entry weights.bin appears twice");
    }

    [Fact]
    public void Should_Reject_A_Tensor_Shape_When_The_Blob_Is_Shorter_Than_It_Declares()
    {
        var entries = ModelFiles.ReadEntries(path);
        var edited = entries.Select(e =>
        {
            if (e.Key != "weights.bin") return e;
            var bytes = e.Value.ToArray();
            // The first tensor's first size (after magic, version, count, name length and name, type and rank).
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(12));
            int at = 12 + 2 + nameLength + 2;
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), 1L << 40);
            return new KeyValuePair<string, byte[]>(e.Key, bytes);
        }).ToList();
        ModelFiles.WriteEntries(path, edited);
        AssertLoadFails(null, "weights.bin is damaged");
    }
}
