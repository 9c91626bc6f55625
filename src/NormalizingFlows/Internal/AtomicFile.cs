using System;
using System.IO;
using System.IO.Compression;

namespace NormalizingFlows.Internal;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never a partial write: the content
/// goes to a temporary file in the same directory (so the final rename stays on one file system), is flushed to disk,
/// and only then replaces the target by a rename. On any failure the temporary file is deleted and the old file is left
/// as it was.
/// </summary>
/// <remarks>The rename is atomic on POSIX file systems and NTFS. The directory entry itself is not flushed (.NET has no
/// portable way to do so), so after a power loss right after the call the old file may reappear, complete.</remarks>
internal static class AtomicFile
{
    /// <summary>Whether a path names gzip-compressed content (it ends with <c>.gz</c>).</summary>
    public static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, atomically.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="write">Writes the whole content to the stream it is given; an exception from it aborts the write.</param>
    /// <param name="gzip">Compress what <paramref name="write"/> writes with gzip.</param>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    public static void Write(string path, Action<Stream> write, bool gzip = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot write {path}: the folder {directory} does not exist.");
        string temporary = TemporaryPath(directory, Path.GetFileName(full));
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (gzip)
                {
                    using var compressed = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
                    write(compressed);
                }
                else
                {
                    write(stream);
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>As <see cref="Write"/>, gzip-compressed when the name ends with <c>.gz</c>.</summary>
    public static void WriteMaybeGzip(string path, Action<Stream> write) => Write(path, write, IsGzip(path));

    /// <summary>The name of the temporary file for <paramref name="fileName"/>: hidden, unique, ending in <c>.tmp</c>.</summary>
    internal static string TemporaryPath(string directory, string fileName) =>
        Path.Combine(directory, $".{fileName}.{Guid.NewGuid():N}.tmp");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original error matters more.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
