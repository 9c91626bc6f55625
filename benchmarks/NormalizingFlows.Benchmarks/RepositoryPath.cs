using System;
using System.IO;
using System.Linq;

namespace NormalizingFlows.Benchmarks;

/// <summary>Paths inside the repository this benchmark was built in (found by its NormalizingFlows.slnx, walking up from the
/// executable).</summary>
internal static class RepositoryPath
{
    /// <summary>The full path of <paramref name="parts"/> below the repository's root; below the current folder when the
    /// executable is not inside a repository.</summary>
    public static string Of(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NormalizingFlows.slnx")))
                return Path.GetFullPath(Path.Combine(new[] { dir.FullName }.Concat(parts).ToArray()));
        return Path.GetFullPath(Path.Combine(parts));
    }
}
