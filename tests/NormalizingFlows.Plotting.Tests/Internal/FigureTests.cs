using System;
using System.IO;
using System.Linq;
using NormalizingFlows.Plotting.Internal;

namespace NormalizingFlows.Plotting.Tests.Internal;

/// <summary>Every figure and report is written atomically: the old file or the whole new one, never a part, and no leftovers.</summary>
public sealed class FigureTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "nflows-figure-" + Guid.NewGuid().ToString("N"));

    public FigureTests() => Directory.CreateDirectory(folder);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Should_Replace_The_Whole_File_And_Leave_No_Temporary_File_When_A_Figure_Is_Rewritten()
    {
        string path = Path.Combine(folder, "figure.png");
        File.WriteAllBytes(path, new byte[100_000]);

        Figure.Write(path, new byte[] { 1, 2, 3 });

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(new[] { "figure.png" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void Should_Leave_No_Temporary_File_When_The_Final_Rename_Fails()
    {
        // A folder where the file should go: the content is written, the rename fails.
        string path = Path.Combine(folder, "report.html");
        Directory.CreateDirectory(path);

        Assert.ThrowsAny<IOException>(() => Figure.Write(path, new byte[1 << 20]));

        Assert.Equal(new[] { "report.html" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).ToArray());
        Assert.Empty(Directory.GetFileSystemEntries(path));
    }
}
