using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Internal;

namespace NormalizingFlows.Cli.Output;

/// <summary>
/// A run's output folder. <see cref="Prepare"/> creates it (with any missing parents) and proves that a file can be created in
/// it before any data is read or any step is trained, so that an unwritable folder fails in a second, not after the run;
/// <see cref="RemoveIfEmpty"/> takes back what <see cref="Prepare"/> created when a run fails before writing anything, so that a
/// failed run never leaves an empty folder behind.
/// </summary>
internal sealed class RunFolder
{
    private readonly string? createdRoot;

    private RunFolder(string path, string? createdRoot)
    {
        Path = path;
        this.createdRoot = createdRoot;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>Creates <paramref name="path"/> if needed and checks that files can be created in it.</summary>
    /// <exception cref="IOException">The folder cannot be created or written; the message names it and says why.</exception>
    public static RunFolder Prepare(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string? createdRoot = null;
        for (string? p = full; p is not null && !Directory.Exists(p); p = System.IO.Path.GetDirectoryName(p))
        {
            if (File.Exists(p))
                throw new IOException($"Cannot use {full} as the output folder: {p} is a file.");
            createdRoot = p;
        }
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Cannot create the output folder {full}: {e.Message}", e);
        }
        var folder = new RunFolder(full, createdRoot);
        folder.RequireWritable();
        return folder;
    }

    /// <summary>Deletes the folder and the parents that <see cref="Prepare"/> created, as long as they are empty (best effort).</summary>
    public void RemoveIfEmpty()
    {
        if (createdRoot is null) return;
        try
        {
            for (string? p = Path; p is not null && p.Length >= createdRoot.Length; p = System.IO.Path.GetDirectoryName(p))
            {
                if (!Directory.Exists(p) || Directory.EnumerateFileSystemEntries(p).Any()) return;
                Directory.Delete(p);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the run's own error matters more.
        }
    }

    private void RequireWritable()
    {
        string probe = AtomicFile.TemporaryPath(Path, "write-test");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            stream.WriteByte(0);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RemoveIfEmpty();
            throw new IOException($"Cannot write to the output folder {Path}: {e.Message}", e);
        }
    }
}
