using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NormalizingFlows.Serialization;

/// <summary>
/// The layout of a model file: a zip archive with <c>architecture.json</c> (the format header and the model's description)
/// and <c>weights.bin</c> (its state dictionary as a <see cref="TensorBlob"/>, stored uncompressed), plus any further entries
/// a caller adds (a training checkpoint's optimizer state, for instance). Every entry read is checked against the CRC-32
/// recorded in the archive, and every failure becomes a <see cref="ModelFileException"/> naming the file and the problem.
/// </summary>
internal sealed class ModelArchive : IDisposable
{
    /// <summary>The entry with the format header and the model's description.</summary>
    public const string ArchitectureEntry = "architecture.json";

    /// <summary>The entry with the model's parameters and buffers.</summary>
    public const string WeightsEntry = "weights.bin";

    /// <summary>The value of <c>"format"</c> in <c>architecture.json</c>.</summary>
    public const string FormatName = "nflows-model";

    /// <summary>The format version this library writes, and the newest it reads.</summary>
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>JSON as this library writes it: a property named twice is an error at parse time (not later, on access).</summary>
    internal static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    /// <summary>The most a deflate stream expands: 258 bytes from 2 bits, plus the block overhead (zlib's figure, 1032 to 1).</summary>
    private const long MaxDeflateRatio = 1032;

    private readonly ZipArchive zip;
    private readonly ModelFileLimits limits;
    private long inflated;

    private ModelArchive(ZipArchive zip, string filePath, ModelFileLimits limits)
    {
        this.zip = zip;
        FilePath = filePath;
        this.limits = limits;
    }

    /// <summary>The limits this archive is read under.</summary>
    public ModelFileLimits Limits => limits;

    /// <summary>The file (or display name) errors refer to.</summary>
    public string FilePath { get; }

    /// <summary>The names of the archive's entries, in archive order.</summary>
    public IReadOnlyList<string> EntryNames => zip.Entries.Select(e => e.FullName).ToArray();

    /// <summary>Opens a model file for reading.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ModelFileException">The file is not a zip archive, or is truncated.</exception>
    public static ModelArchive Open(string path, ModelFileLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such model file.", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return Open(stream, path, limits);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Opens a model archive held in a seekable stream, which the archive then owns.</summary>
    /// <param name="stream">The archive's bytes.</param>
    /// <param name="filePath">The name errors refer to.</param>
    /// <param name="limits">The limits to read under; null for <see cref="ModelFileLimits.Default"/>.</param>
    public static ModelArchive Open(Stream stream, string filePath, ModelFileLimits? limits = null)
    {
        limits ??= ModelFileLimits.Default;
        limits.Validate();
        Span<byte> signature = stackalloc byte[4];
        int read = stream.ReadAtLeast(signature, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (read < 4 || signature[0] != (byte)'P' || signature[1] != (byte)'K')
            throw new ModelFileException(filePath,
                $"not a NormalizingFlows model file: it is not a zip archive (a model file is a zip archive holding {ArchitectureEntry} and {WeightsEntry}).");
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (Exception e) when (IsZipFailure(e))
        {
            throw new ModelFileException(filePath,
                $"the file is truncated or damaged: its zip directory cannot be read ({e.Message}). Was it copied or written only in part?", e);
        }
        try
        {
            CheckEntries(zip, stream.Length, filePath);
            return new ModelArchive(zip, filePath, limits);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>Rejects duplicate entries and entries whose declared sizes the file cannot hold, before anything is read.</summary>
    private static void CheckEntries(ZipArchive zip, long fileLength, string filePath)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyCollection<ZipArchiveEntry> entries;
        try
        {
            entries = zip.Entries;
        }
        catch (Exception e) when (IsZipFailure(e))
        {
            throw new ModelFileException(filePath, $"the file is truncated or damaged: its zip directory cannot be read ({e.Message}).", e);
        }
        foreach (var entry in entries)
        {
            string name = entry.FullName;
            if (!names.Add(name))
                throw new ModelFileException(filePath, $"the zip entry {name} appears twice; a model file holds each entry once (the file is crafted or damaged).");
            if (entry.CompressedLength < 0 || entry.CompressedLength > fileLength)
                throw new ModelFileException(filePath,
                    $"the zip entry {name} declares {entry.CompressedLength} compressed bytes, but the whole file has {fileLength}.");
            if (entry.Length < 0 || entry.Length > entry.CompressedLength * MaxDeflateRatio + 64)
                throw new ModelFileException(filePath,
                    $"the zip entry {name} declares {entry.Length} bytes inflated from {entry.CompressedLength} compressed bytes, more than deflate can produce (1032 to 1).");
        }
    }

    private static bool IsZipFailure(Exception e) =>
        e is InvalidDataException or IOException or ArgumentException or OverflowException or NotSupportedException or IndexOutOfRangeException;

    /// <summary>Whether the archive has an entry of this name.</summary>
    public bool Contains(string name) => zip.GetEntry(name) is not null;

    /// <summary>The bytes of an entry, checked against its recorded length and CRC-32.</summary>
    /// <exception cref="ModelFileException">There is no such entry, or it is corrupt.</exception>
    public byte[] Read(string name)
    {
        var entry = zip.GetEntry(name) ?? throw new ModelFileException(FilePath,
            $"it has no {name} entry, so it is not a NormalizingFlows model file (or not a complete one); it has: {Describe(EntryNames)}.");
        long limit = name == ArchitectureEntry ? Math.Min(limits.MaxArchitectureBytes, limits.MaxInflatedBytes) : limits.MaxInflatedBytes;
        string which = name == ArchitectureEntry && entry.Length > limits.MaxArchitectureBytes
            ? "MaxArchitectureBytes"
            : "MaxInflatedBytes; nflows --max-model-bytes";
        if (entry.Length > limit || inflated + entry.Length > limits.MaxInflatedBytes)
            throw new ModelFileException(FilePath,
                $"the entry {name} inflates to {entry.Length} bytes, more than the limit allows ({(entry.Length > limit ? limit : limits.MaxInflatedBytes - inflated)} bytes; ModelFileLimits.{which}).");
        if (entry.Length > Array.MaxLength)
            throw new ModelFileException(FilePath, $"the entry {name} inflates to {entry.Length} bytes, more than one array holds.");
        inflated += entry.Length;
        // Exactly the declared length is allocated and read: an entry that inflates to more is corrupt, and never fills memory.
        var data = new byte[entry.Length];
        int read;
        bool longer;
        try
        {
            using var source = entry.Open();
            read = source.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            Span<byte> probe = stackalloc byte[1];
            longer = source.Read(probe) > 0;
        }
        catch (Exception e) when (IsZipFailure(e))
        {
            throw new ModelFileException(FilePath, $"the entry {name} is corrupt: it cannot be decompressed or fails its checksum ({e.Message}).", e);
        }
        if (read != entry.Length || longer)
            throw new ModelFileException(FilePath,
                $"the entry {name} is corrupt: it inflates to {(longer ? "more than" : read.ToString(System.Globalization.CultureInfo.InvariantCulture))} bytes but the archive records {entry.Length}.");
        uint crc = Crc32.Compute(data);
        if (crc != entry.Crc32)
            throw new ModelFileException(FilePath,
                $"the entry {name} is corrupt: its CRC-32 checksum is {crc:X8} but the archive records {entry.Crc32:X8}; the file was damaged after it was written.");
        return data;
    }

    /// <summary>Reads <c>architecture.json</c> and checks its header: the format name and a version this library reads.</summary>
    /// <exception cref="ModelFileException">The entry is missing, corrupt, not valid JSON, or not of this format or version.</exception>
    public JsonObject ReadArchitecture()
    {
        var bytes = Read(ArchitectureEntry);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw new ModelFileException(FilePath, $"{ArchitectureEntry} is not valid UTF-8 text.");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(bytes, documentOptions: StrictJson);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" at line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1}" : "";
            throw new ModelFileException(FilePath, $"{ArchitectureEntry} is not valid JSON{where}: {e.Message}", e);
        }
        if (root is not JsonObject architecture)
            throw new ModelFileException(FilePath, $"{ArchitectureEntry} must hold a JSON object; it holds {root?.ToJsonString() ?? "null"}.");
        string? format = (architecture["format"] as JsonValue)?.TryGetValue<string>(out var f) == true ? f : null;
        if (format != FormatName)
            throw new ModelFileException(FilePath,
                $"not a NormalizingFlows model file: {ArchitectureEntry} has format {(format is null ? "(none)" : $"'{format}'")}, expected '{FormatName}'.");
        if (architecture["formatVersion"] is not JsonValue versionValue || !versionValue.TryGetValue<int>(out int version) || version < 1)
            throw new ModelFileException(FilePath, $"{ArchitectureEntry} has no valid formatVersion (a positive integer); found {architecture["formatVersion"]?.ToJsonString() ?? "none"}.");
        if (version > FormatVersion)
        {
            string writer = (architecture["libraryVersion"] as JsonValue)?.TryGetValue<string>(out var v) == true ? $" by NormalizingFlows {v}" : "";
            throw new ModelFileException(FilePath,
                $"it was written in model-file format version {version}{writer}, newer than this library (NormalizingFlows {LibraryVersion}) reads: " +
                $"versions up to {FormatVersion}. Update NormalizingFlows to load it.");
        }
        if (architecture["model"] is not JsonObject)
            throw new ModelFileException(FilePath, $"{ArchitectureEntry} has no \"model\" object describing the model.");
        return architecture;
    }

    /// <summary>Writes a model archive.</summary>
    /// <param name="stream">Where to write (left open).</param>
    /// <param name="architecture">The content of <c>architecture.json</c>.</param>
    /// <param name="weights">The content of <c>weights.bin</c>.</param>
    /// <param name="writeEntries">Optionally writes further entries: it gets a function that opens a new entry by name (dispose
    /// each stream before opening the next). Names must differ from the two entries above.</param>
    public static void Write(Stream stream, JsonObject architecture, byte[] weights, Action<Func<string, Stream>>? writeEntries)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        using (var entry = zip.CreateEntry(ArchitectureEntry, CompressionLevel.Optimal).Open())
            JsonSerializer.Serialize(entry, architecture, Indented);
        // Weights compress poorly; stored, they load without inflating.
        using (var entry = zip.CreateEntry(WeightsEntry, CompressionLevel.NoCompression).Open())
            entry.Write(weights);
        if (writeEntries is null) return;
        var names = new HashSet<string>(StringComparer.Ordinal) { ArchitectureEntry, WeightsEntry };
        writeEntries(name =>
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            if (!names.Add(name)) throw new ArgumentException($"The archive already has an entry named '{name}'.", nameof(name));
            return zip.CreateEntry(name, CompressionLevel.Optimal).Open();
        });
    }

    /// <summary>The library's version, as written to <c>architecture.json</c>.</summary>
    public static string LibraryVersion { get; } = ReadLibraryVersion();

    /// <inheritdoc />
    public void Dispose() => zip.Dispose();

    private static string Describe(IReadOnlyList<string> names) => names.Count == 0 ? "no entries" : string.Join(", ", names);

    private static string ReadLibraryVersion()
    {
        var assembly = typeof(ModelArchive).Assembly;
        var informational = (System.Reflection.AssemblyInformationalVersionAttribute?)Attribute.GetCustomAttribute(
            assembly, typeof(System.Reflection.AssemblyInformationalVersionAttribute));
        string version = informational?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
