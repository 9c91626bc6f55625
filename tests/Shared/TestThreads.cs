using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace NormalizingFlows.Tests.Shared;

/// <summary>
/// Runs libtorch single-threaded in tests. xunit runs test classes (and `dotnet test` test assemblies) in
/// parallel; with two OpenMP threads each on two cores, libtorch's threads spin-wait for each other and a
/// training step becomes many times slower. One thread each keeps the suite's run time predictable.
/// </summary>
/// <remarks><c>torch.set_num_threads</c> sets OpenMP's and MKL's thread counts for the calling thread only, and xunit
/// runs tests on other threads, where the OpenMP default (one thread per core) still applied: measured, a residual-flow
/// training step spent 78% of its time spin-waiting in libgomp. <c>OMP_NUM_THREADS=1</c> in the native environment
/// before libtorch loads makes one thread the default for every thread (an existing value is kept).</remarks>
internal static class TestThreads
{
#pragma warning disable CA2255 // a module initializer is the one place that runs before any test in this assembly
    [ModuleInitializer]
    internal static void UseOneThread()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            SetEnvironment("OMP_NUM_THREADS", "1", 0);
            SetEnvironment("MKL_NUM_THREADS", "1", 0);
        }
        torch.set_num_threads(1);
    }
#pragma warning restore CA2255

    /// <summary>Sets libtorch's thread count on the calling thread to <paramref name="threads"/> until the result is disposed,
    /// then puts the previous count back: for tests of code that shares work among threads.</summary>
    internal static IDisposable Use(int threads)
    {
        int before = torch.get_num_threads();
        torch.set_num_threads(threads);
        return new Restore(before);
    }

    private sealed class Restore(int threads) : IDisposable
    {
        public void Dispose() => torch.set_num_threads(threads);
    }

    // .NET's Environment.SetEnvironmentVariable does not reach the native environment on Unix; libgomp reads it there.
    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnvironment([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
