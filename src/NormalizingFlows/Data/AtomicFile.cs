using System;
using System.IO;
using System.IO.Compression;

namespace NormalizingFlows.Data;

/// <summary>Writes a file all at once: into a temporary file in the same folder, then moved over the target, so that a
/// reader never sees half a file and a failure leaves the old file as it was.</summary>
internal static class AtomicFile
{
    /// <summary>Whether a path names gzip-compressed content (it ends with <c>.gz</c>).</summary>
    public static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; gzip-compressed when the name ends with <c>.gz</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"The path {path} has no folder.", nameof(path));
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write {path}: the folder {folder} does not exist.");
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                if (IsGzip(full))
                {
                    using (var gzip = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true))
                        write(gzip);
                }
                else
                {
                    write(file);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
