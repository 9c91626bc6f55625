using System;
using System.IO;

namespace NormalizingFlows.Tests.Data;

/// <summary>The real data files in <c>../shared/data</c> beside the repository.</summary>
internal static class RealDataFiles
{
    /// <summary>The full path of a shared data file; fails naming the path it looked at when the file is absent.</summary>
    public static string PathOf(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "NormalizingFlows.slnx"))) continue;
            string path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", fileName));
            if (!File.Exists(path))
                throw new FileNotFoundException($"The shared data file {fileName} is missing: expected it at {path}.", path);
            return path;
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds NormalizingFlows.slnx.");
    }
}
