using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using TorchSharp;

namespace NormalizingFlows.Runtime;

/// <summary>
/// libtorch's CPU threads: how many there are and how the idle ones wait.
/// <para>Waiting. libtorch runs its CPU operations (and the library's fused kernels) on an OpenMP team. By default an OpenMP
/// thread that runs out of work spins for a few milliseconds before it sleeps; on a machine whose cores are busy with other
/// processes (a CI runner, a shared server) the spinning threads take the cores from the threads with work, and training ran
/// about 10x slower (5 against 56 steps per second for the same 200 steps). The OpenMP runtime reads its wait policy from the
/// native environment once, when it loads, which is when TorchSharp first loads libtorch. So the library sets
/// <c>OMP_WAIT_POLICY=PASSIVE</c> (idle threads sleep at once) when its assembly is first used, before any of its code runs,
/// unless the environment already sets <c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c> (then the user's choice stands:
/// <c>OMP_WAIT_POLICY=ACTIVE</c> brings spinning back, which can be a little faster on cores nothing else uses).
/// An application that calls <c>torch</c> before any NormalizingFlows type should call <see cref="UsePassiveWait"/> (or
/// <see cref="Configure"/>) first.</para>
/// <para>Count. libtorch's default is one thread per core. <see cref="Configure"/> chooses another count.</para>
/// </summary>
/// <remarks>On Linux and macOS the variables are written into the C library's environment with <c>setenv</c>:
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> changes only .NET's own copy there, which native code never
/// reads. Process-wide; not thread-safe against native code reading the environment at the same moment, so call it at start-up.
/// </remarks>
public static class Threads
{
    /// <summary>The OpenMP variable that says how idle threads wait (<c>PASSIVE</c>: sleep; <c>ACTIVE</c>: spin).</summary>
    public const string WaitPolicyVariable = "OMP_WAIT_POLICY";

    private const string SpinCountVariable = "GOMP_SPINCOUNT";
    private static readonly object Gate = new();

    /// <summary>
    /// Makes libtorch's idle threads sleep instead of spinning: sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native environment
    /// unless it (or <c>GOMP_SPINCOUNT</c>) is already set, and only while libtorch is not loaded yet (its OpenMP runtime reads
    /// the variable once, as it loads). The library calls this itself when its assembly is first used.
    /// </summary>
    /// <returns>True when idle threads sleep: the environment already said <c>PASSIVE</c>, or this call set it before libtorch
    /// loaded. False when the environment chose otherwise, or libtorch was loaded before this call (too late: nothing is
    /// changed).</returns>
    public static bool UsePassiveWait()
    {
        lock (Gate)
        {
            string? policy = GetNative(WaitPolicyVariable);
            if (policy is not null || GetNative(SpinCountVariable) is not null)
                return string.Equals(policy?.Trim(), "PASSIVE", StringComparison.OrdinalIgnoreCase);
            if (NativeRuntimeLoaded()) return false;
            SetNative(WaitPolicyVariable, "PASSIVE");
            return true;
        }
    }

    /// <summary>
    /// Uses <paramref name="threads"/> threads for libtorch's CPU operations and the fused kernels. Called before libtorch
    /// loads, this holds for every thread of the process (it sets <c>OMP_NUM_THREADS</c> and <c>MKL_NUM_THREADS</c> in the
    /// native environment, and the passive wait of <see cref="UsePassiveWait"/>); afterwards it holds for the calling thread
    /// (libtorch keeps the count per thread: train on the thread that called it).
    /// </summary>
    /// <param name="threads">Threads, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public static void Configure(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lock (Gate)
        {
            UsePassiveWait();
            if (!NativeRuntimeLoaded())
            {
                string count = threads.ToString(CultureInfo.InvariantCulture);
                SetNative("OMP_NUM_THREADS", count);
                SetNative("MKL_NUM_THREADS", count);
            }
        }
        torch.set_num_threads(threads);
    }

    /// <summary>The wait policy in the native environment (<c>OMP_WAIT_POLICY</c>), or null when it is not set.</summary>
    public static string? WaitPolicy => GetNative(WaitPolicyVariable);

    /// <summary>Whether libtorch's CPU library is loaded in this process (Linux: read from <c>/proc/self/maps</c>; elsewhere
    /// false, as it cannot be told without loading it).</summary>
    internal static bool NativeRuntimeLoaded()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
                if (line.Contains("/libtorch_cpu.so", StringComparison.Ordinal)) return true;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return false;
    }

    private static string? GetNative(string name) =>
        OperatingSystem.IsWindows() ? Environment.GetEnvironmentVariable(name) : Marshal.PtrToStringUTF8(getenv(name));

    private static void SetNative(string name, string value)
    {
        // Keep .NET's copy in step, so Environment.GetEnvironmentVariable and child processes agree with native code.
        Environment.SetEnvironmentVariable(name, value);
        if (OperatingSystem.IsWindows()) return;
        if (setenv(name, value, 1) != 0)
            throw new InvalidOperationException($"setenv({name}) failed with error {Marshal.GetLastPInvokeError()}.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc")]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
