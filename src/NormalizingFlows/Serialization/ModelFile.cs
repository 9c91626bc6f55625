using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Serialization;

/// <summary>
/// Model files: one file holds a model's architecture (a readable JSON description) and its weights, so that the model is
/// rebuilt without the code that built it. Save with <see cref="Distribution.Save"/>; load with <see cref="Flow.Load"/> or
/// <see cref="Load"/>.
/// </summary>
/// <remarks>
/// <para>Format: a zip archive (suggested extension <see cref="Extension"/>) with two entries. <c>architecture.json</c> holds
/// <c>"format": "nflows-model"</c>, <c>"formatVersion"</c>, the <c>"libraryVersion"</c> that wrote it, the <c>"dtype"</c> of the
/// weights, the <c>"model"</c> tree (each part <c>{"type": name, ...its constructor's arguments}</c>, see
/// <see cref="ModelRegistry"/>) and the caller's optional <c>"metadata"</c> object. <c>weights.bin</c> holds every tensor of the
/// model's <c>state_dict()</c> (parameters and buffers, such as running statistics and ActNorm's initialised flag) by name.</para>
/// <para>Saving is atomic: the file is written under a temporary name in the same directory, flushed to disk, then renamed over
/// the target, so a crash or an error mid-save leaves the previous file intact and no partial file behind.</para>
/// <para>Loading checks everything it reads and throws a <see cref="ModelFileException"/>, whose message starts with the path,
/// for a file that is not a model file, is truncated or corrupt (every entry is checked against its CRC-32), comes from a newer
/// format version, is not valid JSON (with the position), names an unknown type, or whose weights do not fit the described
/// model (each missing, extra or wrong-shaped tensor by name, with both shapes).</para>
/// <para>Model files are untrusted: before anything is allocated or built, every declared size is checked against
/// <see cref="ModelFileLimits"/> (the defaults, or those passed to <see cref="Load"/>) and against
/// the bytes the file really holds; duplicate zip entries are rejected.</para>
/// </remarks>
public static class ModelFile
{
    /// <summary>The suggested file extension, <c>.nflow</c>.</summary>
    public const string Extension = ".nflow";

    /// <summary>Loads a distribution (a <see cref="Flow"/> or a base distribution saved alone) from a model file.</summary>
    /// <param name="path">The file written by <see cref="Distribution.Save"/>.</param>
    /// <param name="device">Where to put the model; null for the CPU.</param>
    /// <param name="limits">What the file may make the loader allocate (see <see cref="ModelFileLimits"/>); null for
    /// <see cref="ModelFileLimits.Default"/>. Pass larger limits for a model larger than the defaults allow, or smaller ones to be
    /// stricter with files from elsewhere.</param>
    /// <returns>The model, in the dtype it was saved in, in evaluation mode.</returns>
    /// <remarks>Loading does not draw from TorchSharp's global random generator: the model's parts are built with a private
    /// generator and the saved weights then replace their initial values. (TorchSharp's own layers, such as the linear layers
    /// of an <see cref="Conditioners.Mlp"/>, draw from the global generator in their constructors; its state is saved before
    /// the model is built and restored after, so another thread drawing from it during a load could see the restored state.)</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="ModelFileException">The file cannot be read as a model, or exceeds a limit (the message says why, naming
    /// the file, the field and the limit).</exception>
    public static Distribution Load(string path, Device? device = null, ModelFileLimits? limits = null) => LoadModule<Distribution>(path, device, limits);

    /// <summary>The <c>"metadata"</c> object saved with the model, or null when none was saved. Reads only <c>architecture.json</c>.</summary>
    /// <param name="path">The model file.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="ModelFileException">The file is not a readable model file, or its metadata is not a JSON object.</exception>
    public static JsonObject? ReadMetadata(string path)
    {
        var architecture = ReadArchitecture(path);
        var metadata = architecture["metadata"];
        if (metadata is null) return null;
        return metadata as JsonObject ?? throw new ModelFileException(path, $"{ModelArchive.ArchitectureEntry} has a \"metadata\" that is not a JSON object: {metadata.ToJsonString()}.");
    }

    /// <summary>The whole content of <c>architecture.json</c>: the format header, the <c>"model"</c> description and any
    /// <c>"metadata"</c>. Reads only that entry; the header is checked.</summary>
    /// <param name="path">The model file.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="ModelFileException">The file is not a readable model file.</exception>
    public static JsonObject ReadArchitecture(string path)
    {
        using var archive = ModelArchive.Open(path);
        return archive.ReadArchitecture();
    }

    /// <summary>Saves any registered module (a distribution, a bijector alone, ...) with optional extra entries, atomically.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="metadata">Saved as <c>"metadata"</c> (a copy); null for none.</param>
    /// <param name="writeEntries">Writes further entries after the model's (see <see cref="ModelArchive.Write"/>); an exception
    /// from it aborts the save and leaves any previous file as it was.</param>
    /// <exception cref="NotSupportedException">A part of the model is of an unregistered type; nothing is written.</exception>
    internal static void Save(nn.Module model, string path, JsonObject? metadata = null, Action<Func<string, Stream>>? writeEntries = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (architecture, weights) = Serialize(model, metadata);
        AtomicFile.Write(path, stream => ModelArchive.Write(stream, architecture, weights, writeEntries));
    }

    /// <summary>Saves a module with extra named entries (e.g. a training checkpoint's optimizer and trainer state).</summary>
    internal static void Save(nn.Module model, string path, JsonObject? metadata, IReadOnlyDictionary<string, byte[]> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Save(model, path, metadata, open =>
        {
            foreach (var (name, bytes) in entries)
            {
                using var stream = open(name);
                stream.Write(bytes);
            }
        });
    }

    /// <summary>Loads a module of kind <typeparamref name="T"/> (a <see cref="Flow"/>, a <see cref="Bijector"/>, ...).</summary>
    /// <exception cref="ModelFileException">The file cannot be read, or holds another kind of model (the message names both).</exception>
    internal static T LoadModule<T>(string path, Device? device = null, ModelFileLimits? limits = null) where T : nn.Module
    {
        using var archive = ModelArchive.Open(path, limits);
        return Rebuild<T>(archive, device);
    }

    /// <summary>Loads a module and every entry of the file other than the model's own two.</summary>
    internal static (T Model, IReadOnlyDictionary<string, byte[]> Entries) LoadWithEntries<T>(string path, Device? device = null, ModelFileLimits? limits = null)
        where T : nn.Module
    {
        using var archive = ModelArchive.Open(path, limits);
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in archive.EntryNames.Where(n => n is not (ModelArchive.ArchitectureEntry or ModelArchive.WeightsEntry)))
            entries[name] = archive.Read(name);
        return (Rebuild<T>(archive, device), entries);
    }

    /// <summary>A model file's bytes, without touching the disk (for tests and in-memory copies).</summary>
    internal static byte[] ToBytes(nn.Module model, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (architecture, weights) = Serialize(model, metadata);
        using var stream = new MemoryStream();
        ModelArchive.Write(stream, architecture, weights, null);
        return stream.ToArray();
    }

    /// <summary>Rebuilds a module from a model file's bytes; errors name <paramref name="name"/>.</summary>
    internal static T FromBytes<T>(byte[] bytes, string name = "(in-memory model)", Device? device = null, ModelFileLimits? limits = null) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var archive = ModelArchive.Open(new MemoryStream(bytes, writable: false), name, limits);
        return Rebuild<T>(archive, device);
    }

    private static (JsonObject Architecture, byte[] Weights) Serialize(nn.Module model, JsonObject? metadata)
    {
        var description = new ArchitectureWriter().Describe(model);
        var architecture = new JsonObject
        {
            ["format"] = ModelArchive.FormatName,
            ["formatVersion"] = ModelArchive.FormatVersion,
            ["libraryVersion"] = ModelArchive.LibraryVersion,
            ["dtype"] = DTypeName(ModuleTensors.Placement(model).DType),
            ["model"] = description,
        };
        if (metadata is not null) architecture["metadata"] = metadata.DeepClone();
        return (architecture, TensorBlob.Write(model.state_dict()));
    }

    private static T Rebuild<T>(ModelArchive archive, Device? device) where T : nn.Module
    {
        string path = archive.FilePath;
        var architecture = archive.ReadArchitecture();
        var dtype = ParseDType(path, architecture);
        var weights = archive.Read(ModelArchive.WeightsEntry);
        CheckKind<T>(path, architecture["model"]!);
        CheckSizes(path, architecture["model"]!, weights, archive.Limits);
        T model;
        using (var generator = new Generator(0))
        {
            // Parts whose constructors draw from the global generator anyway (nn.Linear's initialisation) must not change it.
            var globalState = torch.random.get_rng_state();
            try
            {
                model = new ArchitectureReader(path, generator).Build<T>(architecture["model"]!);
            }
            finally
            {
                torch.random.set_rng_state(globalState);
                globalState.Dispose();
            }
        }
        try
        {
            model.to(dtype);
            CopyWeights(path, model, weights);
            if (device is not null) model.to(device);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Checks the sizes the file declares before anything is built: the values in <c>weights.bin</c> (from its headers)
    /// against <see cref="ModelFileLimits.MaxParameters"/>, and the architecture against the limits and those values.</summary>
    private static void CheckSizes(string path, JsonNode model, byte[] weights, ModelFileLimits limits)
    {
        long stored;
        try
        {
            stored = TensorBlob.CountValues(weights);
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            throw new ModelFileException(path, $"{ModelArchive.WeightsEntry} is damaged: {e.Message}", e);
        }
        if (stored > limits.MaxParameters)
            throw new ModelFileException(path,
                $"{ModelArchive.WeightsEntry} holds {stored} values, more than the limit of {limits.MaxParameters} (ModelFileLimits.MaxParameters; nflows --max-model-parameters).");
        ArchitectureLimits.Check(path, model, limits, stored);
    }

    /// <summary>Rejects a file whose model is of another kind than <typeparamref name="T"/> before anything is built.</summary>
    private static void CheckKind<T>(string path, JsonNode model)
    {
        string? typeName = (model["type"] as JsonValue)?.TryGetValue<string>(out var n) == true ? n : null;
        var entry = typeName is null ? null : ModelRegistry.Find(typeName);
        if (entry is null || typeof(T).IsAssignableFrom(entry.Type)) return;   // unknown types are reported where they are built
        string kind = new[] { typeof(Flow), typeof(Distribution), typeof(Bijector), typeof(Conditioner) }
            .FirstOrDefault(k => k.IsAssignableFrom(entry.Type))?.Name ?? "model part";
        string hint = typeof(Distribution).IsAssignableFrom(entry.Type) ? " Load it with ModelFile.Load, which returns any distribution." : "";
        throw new ModelFileException(path, $"it holds a {typeName} (a {kind}), not a {typeof(T).Name}.{hint}");
    }

    private static void CopyWeights(string path, nn.Module model, byte[] weights)
    {
        List<KeyValuePair<string, Tensor>> saved;
        try
        {
            saved = TensorBlob.Read(weights);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException(path, $"{ModelArchive.WeightsEntry} is damaged: {e.Message}", e);
        }
        try
        {
            var state = model.state_dict();
            var byName = saved.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            var problems = new List<string>();
            foreach (var (name, target) in state)
            {
                if (!byName.TryGetValue(name, out var source))
                    problems.Add($"tensor '{name}' {Guard.Shape(target.shape)} is missing from {ModelArchive.WeightsEntry}");
                else if (!source.shape.SequenceEqual(target.shape))
                    problems.Add($"tensor '{name}' has shape {Guard.Shape(source.shape)} in {ModelArchive.WeightsEntry} but the model described by {ModelArchive.ArchitectureEntry} expects {Guard.Shape(target.shape)}");
                else if (source.dtype != target.dtype && !(source.is_floating_point() && target.is_floating_point()))
                    problems.Add($"tensor '{name}' holds {source.dtype} values in {ModelArchive.WeightsEntry} but the model expects {target.dtype}");
            }
            foreach (var (name, source) in saved)
                if (!state.ContainsKey(name))
                    problems.Add($"{ModelArchive.WeightsEntry} holds tensor '{name}' {Guard.Shape(source.shape)}, which the model described by {ModelArchive.ArchitectureEntry} does not have");
            if (problems.Count > 0)
            {
                const int shown = 5;
                string more = problems.Count > shown ? $"; and {problems.Count - shown} more" : "";
                throw new ModelFileException(path, $"the weights do not fit the architecture: {string.Join("; ", problems.Take(shown))}{more}.");
            }
            using var noGrad = torch.no_grad();
            foreach (var (name, target) in state) target.copy_(byName[name]);
        }
        finally
        {
            foreach (var (_, tensor) in saved) tensor.Dispose();
        }
    }

    private static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => throw new NotSupportedException($"Model files hold floating-point models; this one is {dtype}."),
    };

    private static ScalarType ParseDType(string path, JsonObject architecture)
    {
        string? name = (architecture["dtype"] as JsonValue)?.TryGetValue<string>(out var n) == true ? n : null;
        return name switch
        {
            "float32" => ScalarType.Float32,
            "float64" => ScalarType.Float64,
            "float16" => ScalarType.Float16,
            "bfloat16" => ScalarType.BFloat16,
            _ => throw new ModelFileException(path,
                $"{ModelArchive.ArchitectureEntry} has dtype {architecture["dtype"]?.ToJsonString() ?? "(none)"}; expected \"float32\", \"float64\", \"float16\" or \"bfloat16\"."),
        };
    }
}
