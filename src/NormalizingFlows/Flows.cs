using System;
using System.Collections.Generic;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Distributions;
using NormalizingFlows.Internal;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

/// <summary>
/// Ready-made flows with sensible defaults, one line each. Everything they build is public: each
/// preset is a short composition of <see cref="Chain"/>, <see cref="Coupling"/>, <see cref="LuLinear"/>
/// and a base distribution, reachable through <see cref="Flow.Bijector"/>.
/// </summary>
public static partial class Flows
{
    private static readonly int[] DefaultHidden = { 64, 64 };

    /// <summary>
    /// The first source tutorial's flow: <paramref name="steps"/> x [affine coupling of the second half given
    /// the first (MLP conditioner, zero last layer) + <see cref="LuLinear"/> with a random permutation],
    /// on a fixed standard normal base. Starts as the identity up to the permutations.
    /// </summary>
    /// <param name="features">Number of dimensions (at least 2).</param>
    /// <param name="steps">Number of coupling + LU steps.</param>
    /// <param name="hiddenFeatures">Hidden widths of each conditioner; null for [64, 64].</param>
    /// <param name="seed">Seed for the initial weights and permutations.</param>
    public static Flow LuCoupling(int features = 2, int steps = 16, IReadOnlyList<int>? hiddenFeatures = null, long seed = 0)
    {
        Guard.Positive(steps, nameof(steps));
        using var generator = new Generator((ulong)seed);
        var layers = new List<Bijector>(2 * steps);
        for (int i = 0; i < steps; i++)
        {
            layers.Add(Coupling.WithMlp(Masks.Halves(features), hiddenFeatures ?? DefaultHidden, generator: generator));
            layers.Add(LuLinear.WithRandomPermutation(features, generator));
        }
        return new Flow(new StandardNormal(features), new Chain(layers));
    }

    /// <summary>The default bound <c>c</c> of <see cref="RealNvp"/>'s soft-clamped log-scales, <c>s = c tanh(u / c)</c>.</summary>
    public const double RealNvpLogScaleBound = 4.0;

    /// <summary>
    /// RealNVP (Dinh et al., 2017): <paramref name="layers"/> affine couplings with alternating masks, each with
    /// separate shift and log-scale MLPs (last layers zero), on a standard normal base. Each log-scale is soft-clamped,
    /// <c>s = c tanh(u / c)</c> (<see cref="ScaleMap.SoftClamp"/>), so that no layer scales by more than <c>exp(c)</c>
    /// (<see cref="RealNvpLogScaleBound"/> by default: scales within about [0.018, 55]).
    /// </summary>
    /// <remarks>
    /// Why the clamp: a ReLU network's output grows linearly with its input, so an unbounded log-scale <c>s = u</c> lets one
    /// layer's expansion feed the next layer's log-scale, and a few outlying points can reach <c>exp(s)</c> beyond float32
    /// (measured: trained by maximum likelihood on the rings target, batch 512, Adam 1e-3, seed 0, the unclamped flow's
    /// log-scales reached -9.6 in one layer and 16 000 in the next after 1 000 steps, every batch's loss was infinite and the
    /// fit stopped at step 1051). The default bound 4 was chosen by measurement (same settings, 2000 steps, KL(p||q) in nats):
    /// banana 0.004 (unbounded 0.005, bound 2 0.017, bound 3 0.013), rings 0.56 (bound 2 0.60; unbounded: failed).
    /// </remarks>
    /// <param name="features">Number of dimensions (at least 2).</param>
    /// <param name="layers">Number of coupling layers.</param>
    /// <param name="hiddenFeatures">Hidden widths of each network; null for [64, 64].</param>
    /// <param name="seed">Seed for the initial weights.</param>
    /// <param name="logScaleBound">The bound <c>c</c> of each layer's log-scale (positive, finite); null for the unbounded
    /// log-scale of the paper (<see cref="ScaleMap.Exp"/>).</param>
    public static Flow RealNvp(int features = 2, int layers = 8, IReadOnlyList<int>? hiddenFeatures = null, long seed = 0,
        double? logScaleBound = RealNvpLogScaleBound)
    {
        Guard.Positive(layers, nameof(layers));
        var transform = logScaleBound is { } bound ? new AffineTransform(ScaleMap.SoftClamp, bound) : AffineTransform.Instance;
        using var generator = new Generator((ulong)seed);
        var hidden = hiddenFeatures ?? DefaultHidden;
        var couplings = new List<Bijector>(layers);
        for (int i = 0; i < layers; i++)
        {
            var mask = Masks.Alternating(features, i % 2 == 0 ? 1 : 0);
            int transformed = 0;
            foreach (bool m in mask) if (m) transformed++;
            int passed = features - transformed;
            // Separate shift and log-scale networks, computed together (same weights as two Mlps from this generator).
            var networks = new ParallelMlp(2, passed, transformed, hidden, generator: generator);
            couplings.Add(new Coupling(mask, networks, transform));
        }
        return new Flow(new StandardNormal(features), new Chain(couplings));
    }
}
