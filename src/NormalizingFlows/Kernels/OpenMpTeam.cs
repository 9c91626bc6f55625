using System;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace NormalizingFlows.Kernels;

/// <summary>
/// Runs a fused kernel's work on libtorch's own OpenMP threads (<c>GOMP_parallel</c> of the OpenMP runtime that libtorch links),
/// the threads every libtorch operation uses. Those threads spin for a while after each operation; .NET thread-pool threads
/// started beside them compete with the spinning for the same cores and measured slower than one thread, and waking a
/// pool thread took longer than a block of work. Where the runtime is not found, <see cref="Available"/> is false and callers
/// run on one thread.
/// </summary>
internal static unsafe class OpenMpTeam
{
    private static readonly delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, uint, uint, void> Parallel;
    private static readonly delegate* unmanaged<int> ThreadNumber;
    private static readonly delegate* unmanaged<int> ThreadCount;
    private static readonly delegate* unmanaged<int> InParallelRegion;

    static OpenMpTeam()
    {
        IntPtr parallel = LibTorchCpu.Export("GOMP_parallel"), number = LibTorchCpu.Export("omp_get_thread_num"),
            count = LibTorchCpu.Export("omp_get_num_threads"), inParallel = LibTorchCpu.Export("omp_in_parallel");
        if (parallel == IntPtr.Zero || number == IntPtr.Zero || count == IntPtr.Zero || inParallel == IntPtr.Zero) return;
        Parallel = (delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, uint, uint, void>)parallel;
        ThreadNumber = (delegate* unmanaged<int>)number;
        ThreadCount = (delegate* unmanaged<int>)count;
        InParallelRegion = (delegate* unmanaged<int>)inParallel;
    }

    /// <summary>Whether libtorch's OpenMP runtime was found.</summary>
    public static bool Available => Parallel != null;

    /// <summary>Whether the calling thread runs inside a parallel region of more than one thread (a nested region would run
    /// on its own thread only, after the cost of making it).</summary>
    public static bool InParallel => Available && InParallelRegion() != 0;

    /// <summary>
    /// Calls <paramref name="body"/><c>(thread, threads)</c> once on each of up to <paramref name="threads"/> OpenMP threads (the
    /// calling thread among them) and returns when all are done; the first exception any of them threw is rethrown here.
    /// </summary>
    public static void Run(int threads, Action<int, int> body)
    {
        if (!Available) throw new InvalidOperationException("libtorch's OpenMP runtime was not found.");
        var state = new State(body);
        var handle = GCHandle.Alloc(state);
        try
        {
            Parallel(&Entry, GCHandle.ToIntPtr(handle), (uint)Math.Max(1, threads), 0);
        }
        finally
        {
            handle.Free();
        }
        state.Failure?.Throw();
    }

    [UnmanagedCallersOnly]
    private static void Entry(IntPtr data)
    {
        var state = (State)GCHandle.FromIntPtr(data).Target!;
        try
        {
            state.Body(ThreadNumber(), ThreadCount());
        }
        catch (Exception e)
        {
            lock (state) state.Failure ??= ExceptionDispatchInfo.Capture(e);
        }
    }

    private sealed class State(Action<int, int> body)
    {
        public Action<int, int> Body { get; } = body;
        public ExceptionDispatchInfo? Failure { get; set; }
    }
}
