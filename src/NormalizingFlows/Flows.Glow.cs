using System;
using System.Collections.Generic;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

public static partial class Flows
{
    /// <summary>
    /// Glow (Kingma and Dhariwal, 2018) on vectors: <paramref name="steps"/> steps, each (from the data side) an <see cref="ActNorm"/>
    /// (initialised from the first training batch), an <see cref="LuLinear"/> (the 1x1 convolution of the paper, for vectors) and an
    /// affine <see cref="Coupling"/> with an MLP conditioner (zero last layer) transforming the second and the first half in turn;
    /// standard normal base. The data end is an ActNorm, so the flow sees standardised data.
    /// </summary>
    /// <param name="features">Number of dimensions (at least 2).</param>
    /// <param name="steps">Number of steps.</param>
    /// <param name="hiddenFeatures">Hidden widths of each conditioner; null for [64, 64].</param>
    /// <param name="contextFeatures">Width of the context every conditioner sees; 0 for an unconditional flow.</param>
    /// <param name="seed">Seed for the initial weights.</param>
    public static Flow Glow(int features = 2, int steps = 8, IReadOnlyList<int>? hiddenFeatures = null, int contextFeatures = 0, long seed = 0)
    {
        Guard.Positive(steps, nameof(steps));
        using var generator = new Generator((ulong)seed);
        var chain = new List<Bijector>(3 * steps);
        // Listed base to data: within a step the data side comes last (Inverse runs ActNorm, then LuLinear, then the coupling).
        for (int i = 0; i < steps; i++)
        {
            chain.Add(Coupling.WithMlp(Masks.Halves(features, second: i % 2 == 0), hiddenFeatures ?? DefaultHidden, contextFeatures, generator: generator));
            chain.Add(new LuLinear(features));
            chain.Add(new ActNorm(features));
        }
        return new Flow(new StandardNormal(features), new Chain(chain));
    }
}
