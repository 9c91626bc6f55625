using System;
using System.Collections.Generic;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Internal;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

public static partial class Flows
{
    /// <summary>
    /// Coupling neural spline flow (Durkan et al., 2019): <paramref name="layers"/> <see cref="Coupling"/> layers with a
    /// <see cref="RationalQuadraticSpline"/> (identity tails beyond <paramref name="bound"/>) and MLP conditioners, transforming the
    /// second and the first half in turn, each followed by an <see cref="LuLinear"/>; then an <see cref="ActNorm"/> at the data end
    /// (initialised from the first training batch) so that the splines see standardised data; standard normal base.
    /// </summary>
    /// <param name="features">Number of dimensions (at least 2).</param>
    /// <param name="layers">Number of coupling layers.</param>
    /// <param name="hiddenFeatures">Hidden widths of each conditioner; null for [64, 64].</param>
    /// <param name="contextFeatures">Width of the context every conditioner sees; 0 for an unconditional flow.</param>
    /// <param name="bins">Spline bins.</param>
    /// <param name="bound">Half-width of the spline interval <c>[-bound, bound]</c> (in standardised units).</param>
    /// <param name="seed">Seed for the initial weights.</param>
    public static Flow NeuralSplineCoupling(int features = 2, int layers = 6, IReadOnlyList<int>? hiddenFeatures = null,
        int contextFeatures = 0, int bins = 8, double bound = 5.0, long seed = 0)
    {
        Guard.Positive(layers, nameof(layers));
        using var generator = new Generator((ulong)seed);
        var spline = new RationalQuadraticSpline(bins, bound);
        var chain = new List<Bijector>(2 * layers + 1);
        for (int i = 0; i < layers; i++)
        {
            chain.Add(Coupling.WithMlp(Masks.Halves(features, second: i % 2 == 0), hiddenFeatures ?? DefaultHidden, contextFeatures, spline, generator: generator));
            chain.Add(new LuLinear(features));
        }
        chain.Add(new ActNorm(features));
        return new Flow(new StandardNormal(features), new Chain(chain));
    }
}
