using System;
using System.IO;
using System.Linq;

namespace NormalizingFlows.Benchmarks;

/// <summary>Reads this process's resident memory from /proc (Linux); falls back to the runtime's working set elsewhere.</summary>
internal static class ResidentMemory
{
    /// <summary>Current resident set size in MiB.</summary>
    public static double CurrentMiB() => Read("VmRSS:") ?? Environment.WorkingSet / 1048576.0;

    /// <summary>Peak resident set size in MiB.</summary>
    public static double PeakMiB() => Read("VmHWM:") ?? System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    private static double? Read(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        if (line is null) return null;
        var kib = long.Parse(line.Substring(key.Length).Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return kib / 1024.0;
    }
}
