using System;
using TorchSharp;

namespace NormalizingFlows.Kernels;

/// <summary>
/// How many threads a kernel whose call splits into a few large parts may use (a whole chain's training step,
/// <see cref="FusedChainTraining"/>): libtorch's count on the calling thread, or the count a fit lent here while it runs its small
/// operations on one thread (<see cref="Training.StepThreads"/>). Per thread, as libtorch keeps its count.
/// </summary>
internal static class PartThreads
{
    [ThreadStatic] private static int lent;

    /// <summary>The threads such a kernel may use on the calling thread now.</summary>
    public static int Count => Math.Max(lent, torch.get_num_threads());

    /// <summary>Lets such kernels on the calling thread use <paramref name="threads"/> threads until the result is disposed.</summary>
    public static IDisposable Lend(int threads)
    {
        int before = lent;
        lent = threads;
        return new Restore(before);
    }

    private sealed class Restore(int before) : IDisposable
    {
        public void Dispose() => lent = before;
    }
}
