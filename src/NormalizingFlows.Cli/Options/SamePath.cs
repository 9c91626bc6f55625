using System;
using System.IO;

namespace NormalizingFlows.Cli.Options;

/// <summary>
/// Whether two paths name the same file: equal full paths once symbolic links to the files are followed (case-insensitive on
/// Windows and macOS). Used to refuse an output that would overwrite an input (<c>logprob --data X --out X</c>).
/// </summary>
internal static class SamePath
{
    private static readonly StringComparison Comparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> name the same file.</summary>
    public static bool Of(string a, string b) => string.Equals(Canonical(a), Canonical(b), Comparison);

    /// <summary>The usage error for an output that is also an input.</summary>
    public static string OverwriteError(string outputOption, string inputOption, string path) =>
        $"{outputOption} {path} is also the {inputOption} file: writing it would destroy the input. Choose another {outputOption}.";

    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full;
        }
    }
}
