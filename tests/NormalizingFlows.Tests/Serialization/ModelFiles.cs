using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>A fresh directory under the system's temporary folder, deleted with everything in it on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("nflows-model-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The names of the files in the directory, hidden ones included, sorted.</summary>
    public string[] FileNames() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Helpers for model-file tests: perturbing models and editing saved files.</summary>
internal static class ModelFiles
{
    /// <summary>Moves every parameter away from its initial value, so that no layer is the identity.</summary>
    public static void Perturb(nn.Module model, long seed = 4, double size = 0.2)
    {
        using var generator = new Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var p in model.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(size));
    }

    /// <summary>Every entry of a zip archive, by name, in archive order.</summary>
    public static List<KeyValuePair<string, byte[]>> ReadEntries(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var result = new List<KeyValuePair<string, byte[]>>();
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            result.Add(new(entry.FullName, buffer.ToArray()));
        }
        return result;
    }

    /// <summary>Writes a zip archive with exactly these entries.</summary>
    public static void WriteEntries(string path, IEnumerable<KeyValuePair<string, byte[]>> entries)
    {
        using var file = new FileStream(path, FileMode.Create);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var stream = zip.CreateEntry(name).Open();
            stream.Write(bytes);
        }
    }

    /// <summary>Rewrites <c>architecture.json</c> of a saved model with <paramref name="edit"/> applied to its text.</summary>
    public static void EditArchitecture(string path, Func<string, string> edit)
    {
        var entries = ReadEntries(path);
        var edited = entries.Select(e => e.Key == "architecture.json"
            ? new KeyValuePair<string, byte[]>(e.Key, Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(e.Value))))
            : e).ToList();
        WriteEntries(path, edited);
    }

    /// <summary>Rewrites <c>architecture.json</c> of a saved model with <paramref name="edit"/> applied to its JSON tree.</summary>
    public static void EditArchitecture(string path, Action<System.Text.Json.Nodes.JsonObject> edit) =>
        EditArchitecture(path, text =>
        {
            var root = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
            edit(root);
            return root.ToJsonString();
        });

    /// <summary>Whether two tensors have the same dtype, shape and values, value for value.</summary>
    public static bool Identical(Tensor expected, Tensor actual) =>
        expected.dtype == actual.dtype && expected.shape.SequenceEqual(actual.shape) && expected.eq(actual).all().item<bool>();
}
