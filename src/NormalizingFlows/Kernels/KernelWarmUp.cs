using System;
using System.Linq;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Threading;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Kernels;

/// <summary>
/// Compiles the evaluation kernels ahead of their first use: once per process and element type, a thread-pool thread runs a
/// small synthetic chain (a tiled or BLAS wide coupling, RealNVP's two networks, a narrow tanh-bounded coupling, a masked
/// autoregressive layer's density pass, an LU layer and a learnable leaky ReLU, both directions, a few dozen rows, zero weights,
/// then a masked autoregressive layer wide enough to map its rows on the tiles; the density direction also ending in a standard
/// normal base, as a flow's log-density does)
/// through <see cref="FusedChain"/>. The kernels are compiled optimised from their first call, and that compilation (about
/// 40-60 ms on a 2-core machine) otherwise lands on the first evaluation after training, typically doubling it; started when
/// a layer that runs through a kernel is first planned (typically the first training step), it overlaps with training. It touches no tensor, parameter or random generator of the caller, and a failure only means the kernels are
/// compiled on first use as before.
/// </summary>
internal static class KernelWarmUp
{
    private static int startedSingle;
    private static int startedDouble;

    /// <summary>Starts the warm-up for <typeparamref name="T"/> unless it was started before in this process.</summary>
    public static void Start<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref int started = ref typeof(T) == typeof(float) ? ref startedSingle : ref startedDouble;
        if (Interlocked.Exchange(ref started, 1) != 0) return;
        ThreadPool.UnsafeQueueUserWorkItem(_ => Run<T>(), null);
    }

    /// <summary>The synthetic chain, forward and inverse, on the calling thread. Returns false if it failed (never expected).</summary>
    internal static bool Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        try
        {
            var plans = new[]
            {
                FusionPlanner.Coupling(2, new[] { 0 }, new[] { 1 }, new[] { 1, 64, 64, 2 }, 1, Activation.Relu, LogScaleKind.Raw, 0),
                FusionPlanner.Coupling(2, new[] { 1 }, new[] { 0 }, new[] { 1, 64, 64, 1 }, 2, Activation.Relu, LogScaleKind.Raw, 0),
                FusionPlanner.Coupling(2, new[] { 0 }, new[] { 1 }, new[] { 1, 4, 2 }, 1, Activation.Tanh, LogScaleKind.LearnedBound, 0),
                // A masked autoregressive layer's density direction: every column in, a last layer of one partial vector.
                FusionPlanner.Autoregressive(new AutoregressiveDescription(2,
                    new NetworkDescription(2, new[] { 64, 64 }, 4, 1, 0, Activation.Relu, static () => Array.Empty<TorchSharp.torch.Tensor>()),
                    new Made.RankLayout(new long[2][], new int[2][], new long[] { 0, 1 }),
                    new TransformDescription(LogScaleKind.FixedBound, 3.0, static () => Array.Empty<TorchSharp.torch.Tensor>())))!,
            };
            foreach (bool inverse in new[] { true, false })
            {
                var stages = new RowStage<T>[plans.Length + 2];
                for (int i = 0; i < plans.Length; i++) stages[i] = CouplingStage<T>.Synthetic(plans[i], inverse);
                stages[plans.Length] = new LuLinearStage<T>(new double[] { 1, 0, 0, 1 }, new double[2], 0);
                stages[plans.Length + 1] = new LeakyReluStage<T>(new[] { 0.5 }, inverse, 2);
                // Enough rows for every vector loop's body and tail (with fewer rows than a vector's lanes only the scalar tails
                // ran, and exp, LU and leaky ReLU were compiled in the first real evaluation) and for more than one tile.
                int rows = 2 * Math.Max(Vector<T>.Count, Vector512<T>.Count) + TiledNetwork<T>.TileRows + 1;
                var input = new T[2 * rows];
                for (int i = 0; i < input.Length; i++) input[i] = T.CreateChecked(i % 5 - 2);
                FusedChain.Run(stages, input, new T[input.Length], new T[input.Length / 2], 2);
                if (inverse)
                {
                    // A flow's log-density: the chain ends in its standard normal base, with no output rows.
                    stages[^1] = new StandardNormalStage<T>(2, Math.Log(2 * Math.PI));
                    FusedChain.Run(stages, input, Span<T>.Empty, new T[input.Length / 2], 2);
                    Internal.TensorValues.AllFinite<T>(input);
                }
                // A masked autoregressive layer wide enough to map its rows on the tiles (TiledNetwork.RunAffine): a whole vector
                // of features and a tail.
                int wide = Vector<T>.Count + 1;
                var rowMap = FusionPlanner.Autoregressive(new AutoregressiveDescription(wide,
                    new NetworkDescription(wide, new[] { 64, 64 }, 2 * wide, 1, 0, Activation.Relu, static () => Array.Empty<TorchSharp.torch.Tensor>()),
                    new Made.RankLayout(new long[2][], new int[2][], Enumerable.Range(0, wide).Select(f => (long)f).ToArray()),
                    new TransformDescription(LogScaleKind.FixedBound, 3.0, static () => Array.Empty<TorchSharp.torch.Tensor>())))!;
                var wideInput = new T[wide * rows];
                for (int i = 0; i < wideInput.Length; i++) wideInput[i] = T.CreateChecked(i % 5 - 2);
                var wideStages = inverse
                    ? new RowStage<T>[] { CouplingStage<T>.Synthetic(rowMap, inverse), new StandardNormalStage<T>(wide, wide * Math.Log(2 * Math.PI) / 2) }
                    : new RowStage<T>[] { CouplingStage<T>.Synthetic(rowMap, inverse) };
                FusedChain.Run(wideStages, wideInput, inverse ? Span<T>.Empty : new T[wideInput.Length], new T[rows], wide);
            }
            // The entry from libtorch's OpenMP runtime into the kernels (a team of one: no thread is started).
            if (OpenMpTeam.Available) OpenMpTeam.Run(1, static (_, _) => { });
            return true;
        }
#pragma warning disable CA1031 // a warm-up that fails leaves compilation to the first real call; nothing to report
        catch (Exception)
        {
            return false;
        }
#pragma warning restore CA1031
    }
}
