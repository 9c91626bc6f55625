using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace NormalizingFlows.Cli.Fitting;

/// <summary>
/// What identifies a run's training data, whatever its path: the SHA-256 of the file's bytes and its length, or, for a folder of
/// images, of every image file in name order (each one's name, length and bytes).
/// </summary>
/// <param name="Path">Where the data was read (shown in messages; not compared).</param>
/// <param name="Bytes">The data's length in bytes (all files together for a folder).</param>
/// <param name="Sha256">The SHA-256, lower-case hex.</param>
internal sealed record DataFingerprint(string Path, long Bytes, string Sha256)
{
    /// <summary>Fingerprints the file <paramref name="path"/>, or the files <paramref name="files"/> of a folder of images.</summary>
    public static DataFingerprint Of(string path, IReadOnlyList<string>? files = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0;
        if (files is null)
        {
            bytes = Append(hash, path);
        }
        else
        {
            foreach (string file in files)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(file) + "\n" + new FileInfo(file).Length + "\n"));
                bytes += Append(hash, file);
            }
        }
        return new DataFingerprint(System.IO.Path.GetFullPath(path), bytes, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>The fingerprint as JSON: <c>{"path", "bytes", "sha256"}</c>.</summary>
    public JsonObject ToJson() => new() { ["path"] = Path, ["bytes"] = Bytes, ["sha256"] = Sha256 };

    /// <summary>Reads <see cref="ToJson"/>'s object; null when it is not one.</summary>
    public static DataFingerprint? FromJson(JsonNode? node) =>
        node is JsonObject o && o["path"] is JsonValue p && o["bytes"] is JsonValue b && o["sha256"] is JsonValue s
            && p.TryGetValue(out string? path) && b.TryGetValue(out long bytes) && s.TryGetValue(out string? sha)
            ? new DataFingerprint(path, bytes, sha)
            : null;

    /// <summary>Whether the two fingerprints name the same content (the paths may differ).</summary>
    public bool SameContent(DataFingerprint other) => Bytes == other.Bytes && string.Equals(Sha256, other.Sha256, StringComparison.Ordinal);

    /// <summary>One line for messages: path, length and the start of the hash.</summary>
    public override string ToString() => $"{Path} ({Bytes} bytes, SHA-256 {Sha256[..Math.Min(16, Sha256.Length)]}...)";

    private static long Append(IncrementalHash hash, string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }
        return total;
    }
}
