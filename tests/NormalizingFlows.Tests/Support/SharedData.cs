using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace NormalizingFlows.Tests.Support;

/// <summary>The real data sets vendored in the repository's <c>data/</c> folder (sources and licences in <c>data/README.md</c>);
/// tests never read outside the repository.</summary>
public static class SharedData
{
    /// <summary>The repository root: the nearest folder above the test binaries that holds <c>NormalizingFlows.slnx</c>.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NormalizingFlows.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds NormalizingFlows.slnx.");
    }

    /// <summary>The full path of a file in the repository's <c>data/</c> folder; fails with the path it looked at when the file is absent.</summary>
    public static string PathOf(string fileName)
    {
        string path = Path.GetFullPath(Path.Combine(RepositoryRoot(), "data", fileName));
        if (!File.Exists(path))
            throw new FileNotFoundException($"The data file {fileName} is missing: expected it at {path} (the repository's data/ folder).", path);
        return path;
    }

    /// <summary>
    /// The UCI handwritten digits (1797 images of 8 x 8 grey levels 0..16, via scikit-learn): pixel levels <c>[rows, 64]</c> in row-major
    /// order and labels <c>[rows]</c>.
    /// </summary>
    public static (double[][] Pixels, int[] Labels) Digits()
    {
        using var file = File.OpenRead(PathOf("digits.csv.gz"));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var rows = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
        if (rows.Any(r => r.Length != 65))
            throw new InvalidDataException("Expected 65 columns (64 pixels, then the label) in every row of digits.csv.gz.");
        return (rows.Select(r => r[..64]).ToArray(), rows.Select(r => (int)r[64]).ToArray());
    }
}
