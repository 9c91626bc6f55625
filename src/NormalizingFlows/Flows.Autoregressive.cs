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

public static partial class Flows
{
    /// <summary>
    /// Masked autoregressive flow (Papamakarios et al., 2017): <paramref name="layers"/> affine <see cref="MaskedAutoregressive"/> layers
    /// whose <see cref="Made"/> orders alternate between natural and reversed, then an <see cref="ActNorm"/> at the data end
    /// (initialised from the first training batch), on a standard normal base. Density: one network pass per layer; sampling:
    /// <paramref name="features"/> passes per layer.
    /// </summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="layers">Number of autoregressive layers.</param>
    /// <param name="hiddenFeatures">Hidden widths of each MADE; null for [64, 64].</param>
    /// <param name="contextFeatures">Width of the context every MADE sees; 0 for an unconditional flow.</param>
    /// <param name="residual">Use residual MADE networks (equal hidden widths).</param>
    /// <param name="seed">Seed for the initial weights.</param>
    public static Flow Maf(int features = 2, int layers = 5, IReadOnlyList<int>? hiddenFeatures = null, int contextFeatures = 0,
        bool residual = false, long seed = 0) =>
        Autoregressive(features, layers, hiddenFeatures, contextFeatures, residual, seed, AffineTransform.Instance, invert: false);

    /// <summary>
    /// Inverse autoregressive flow (Kingma et al., 2016): <paramref name="layers"/> x <c>new Invert(affine MaskedAutoregressive)</c> with
    /// alternating orders, then an <see cref="ActNorm"/> at the data end, on a standard normal base. Sampling (and
    /// <see cref="Distribution.SampleWithLogProb"/>) is one network pass per layer; the density is exact but needs
    /// <paramref name="features"/> passes per layer.
    /// </summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="layers">Number of autoregressive layers.</param>
    /// <param name="hiddenFeatures">Hidden widths of each MADE; null for [64, 64].</param>
    /// <param name="contextFeatures">Width of the context every MADE sees; 0 for an unconditional flow.</param>
    /// <param name="residual">Use residual MADE networks (equal hidden widths).</param>
    /// <param name="seed">Seed for the initial weights.</param>
    public static Flow Iaf(int features = 2, int layers = 5, IReadOnlyList<int>? hiddenFeatures = null, int contextFeatures = 0,
        bool residual = false, long seed = 0) =>
        Autoregressive(features, layers, hiddenFeatures, contextFeatures, residual, seed, AffineTransform.Instance, invert: true);

    /// <summary>
    /// Autoregressive neural spline flow (Durkan et al., 2019): <paramref name="layers"/> <see cref="MaskedAutoregressive"/> layers with a
    /// <see cref="RationalQuadraticSpline"/> (identity tails beyond <paramref name="bound"/>) and alternating orders, then an
    /// <see cref="ActNorm"/> at the data end so that the splines see standardised data, on a standard normal base.
    /// </summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="layers">Number of autoregressive layers.</param>
    /// <param name="hiddenFeatures">Hidden widths of each MADE; null for [64, 64].</param>
    /// <param name="contextFeatures">Width of the context every MADE sees; 0 for an unconditional flow.</param>
    /// <param name="bins">Spline bins.</param>
    /// <param name="bound">Half-width of the spline interval <c>[-bound, bound]</c> (in standardised units).</param>
    /// <param name="residual">Use residual MADE networks (equal hidden widths).</param>
    /// <param name="seed">Seed for the initial weights.</param>
    public static Flow NeuralSplineAutoregressive(int features = 2, int layers = 4, IReadOnlyList<int>? hiddenFeatures = null,
        int contextFeatures = 0, int bins = 8, double bound = 5.0, bool residual = false, long seed = 0) =>
        Autoregressive(features, layers, hiddenFeatures, contextFeatures, residual, seed, new RationalQuadraticSpline(bins, bound), invert: false);

    private static Flow Autoregressive(int features, int layers, IReadOnlyList<int>? hiddenFeatures, int contextFeatures, bool residual,
        long seed, IElementwiseTransform transform, bool invert)
    {
        Guard.Features(features, nameof(features));
        Guard.Positive(layers, nameof(layers));
        using var generator = new Generator((ulong)seed);
        var hidden = hiddenFeatures ?? DefaultHidden;
        var chain = new List<Bijector>(layers + 1);
        for (int i = 0; i < layers; i++)
        {
            var order = i % 2 == 0 ? Made.NaturalOrder(features) : Made.ReversedOrder(features);
            var layer = MaskedAutoregressive.WithMade(features, hidden, contextFeatures, transform, order, residual, generator: generator);
            chain.Add(invert ? new Invert(layer) : layer);
        }
        chain.Add(new ActNorm(features));
        return new Flow(new StandardNormal(features), new Chain(chain));
    }
}
