using System;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// Refuses, with a clear error, a request whose result alone cannot fit in this process's memory (the machine's physical memory or
/// its container limit, as .NET sees it) before anything is allocated: a count typed with three zeros too many must not end in
/// libtorch's allocator failing mid-way (or the kernel's out-of-memory killer).
/// </summary>
internal static class MemoryBudget
{
    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="argument"/> when <paramref name="rows"/> x
    /// <paramref name="valuesPerRow"/> values of <paramref name="dtype"/> (the result alone; the work on the way needs more)
    /// exceed the memory available to this process on the CPU. Not checked on other devices (their allocator fails catchably).
    /// </summary>
    /// <param name="rows">The count the caller asked for.</param>
    /// <param name="valuesPerRow">Values in one row of the result.</param>
    /// <param name="dtype">The result's dtype.</param>
    /// <param name="deviceType">Where the result is allocated.</param>
    /// <param name="argument">The parameter that holds <paramref name="rows"/>.</param>
    /// <param name="what">What is made, for the message (e.g. "samples").</param>
    public static void RequireFits(long rows, long valuesPerRow, ScalarType dtype, DeviceType deviceType, string argument, string what)
    {
        if (deviceType != DeviceType.CPU) return;
        double bytes = (double)rows * valuesPerRow * ElementSize(dtype);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && bytes > available)
            throw new ArgumentOutOfRangeException(argument, rows, string.Create(CultureInfo.InvariantCulture,
                $"{rows} {what} of {valuesPerRow} {dtype} values need {Gigabytes(bytes)} for the result alone; this process has {Gigabytes(available)} of memory. Ask for fewer (or draw them in batches)."));
    }

    private static string Gigabytes(double bytes) => (bytes / (1L << 30)).ToString("G3", CultureInfo.InvariantCulture) + " GiB";

    private static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.ComplexFloat64 => 16,
        _ => 4,
    };
}
