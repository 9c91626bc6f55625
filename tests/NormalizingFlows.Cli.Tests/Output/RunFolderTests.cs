using System;
using System.Diagnostics;
using System.IO;
using NormalizingFlows.Cli.Output;
using Xunit.Abstractions;

namespace NormalizingFlows.Cli.Tests.Output;

/// <summary>An output folder that cannot be written fails the run before any training; a failed run leaves no empty folder.</summary>
[Collection(Commands.TrainingCollection.Name)]
public sealed class RunFolderTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose()
    {
        string readOnly = folder.Combine("read-only");
        if (!OperatingSystem.IsWindows() && Directory.Exists(readOnly)) File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        folder.Dispose();
    }

    [Fact]
    public void Should_Fail_Fast_Naming_The_Folder_Before_Training_When_The_Output_Folder_Is_Read_Only()
    {
        string? readOnly = ReadOnlyFolder();
        if (readOnly is null)
        {
            log.WriteLine("no read-only folder on this machine (running as root with no read-only file system): nothing to check");
            return;
        }
        foreach (var args in new[]
        {
            new[] { "demo", "banana", "--out", readOnly },
            new[] { "fit-target", "--target", "banana", "--out", readOnly },
        })
        {
            var clock = Stopwatch.StartNew();
            var run = CliRun.Of(args);
            log.WriteLine(run.Output + run.Error);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains($"Cannot write to the output folder {readOnly}", run.Error);
            Assert.DoesNotContain("iteration", run.Output);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"failed after {clock.Elapsed}, not at once");
        }
    }

    [Fact]
    public void Should_Fail_Naming_The_Folder_When_The_Output_Folder_Cannot_Be_Created()
    {
        Directory.CreateDirectory(folder.Path);
        File.WriteAllText(folder.Combine("file"), "not a folder");
        string inside = Path.Combine(folder.Combine("file"), "run");
        var run = CliRun.Of("fit-target", "--target", "banana", "--out", inside);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"Cannot use {inside} as the output folder", run.Error);
    }

    [Fact]
    public void Should_Remove_Only_The_Folders_It_Created_When_Nothing_Was_Written()
    {
        Directory.CreateDirectory(folder.Path);
        var created = RunFolder.Prepare(folder.Combine(Path.Combine("a", "b", "c")));
        created.RemoveIfEmpty();
        Assert.False(Directory.Exists(folder.Combine("a")));
        Assert.True(Directory.Exists(folder.Path), "folders that were there before stay");

        var kept = RunFolder.Prepare(folder.Combine("kept"));
        File.WriteAllText(Path.Combine(kept.Path, "losses.csv"), "iteration,loss\n");
        kept.RemoveIfEmpty();
        Assert.True(File.Exists(folder.Combine(Path.Combine("kept", "losses.csv"))), "a folder with files in it stays");
    }

    /// <summary>A folder files cannot be created in: a read-only one of ours, or (for root, whom permissions do not stop) a
    /// folder of a read-only kernel file system; null when there is none.</summary>
    private string? ReadOnlyFolder()
    {
        if (OperatingSystem.IsWindows()) return null;
        string path = folder.Combine("read-only");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        if (!CanCreateFile(path)) return path;
        foreach (string candidate in new[] { "/sys", "/proc" })
            if (Directory.Exists(candidate) && !CanCreateFile(candidate)) return candidate;
        return null;
    }

    private static bool CanCreateFile(string folder)
    {
        try
        {
            using var stream = new FileStream(Path.Combine(folder, ".probe-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.Write,
                FileShare.None, 1, FileOptions.DeleteOnClose);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
