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
    /// A planar flow (Rezende and Mohamed, 2015): <paramref name="layers"/> <see cref="Planar"/> layers on a standard normal
    /// base. For variational inference: <see cref="Distribution.SampleWithLogProb"/> gives samples with exact
    /// log-densities, but planar layers have no closed-form inverse, so <see cref="Distribution.LogProb"/> of arbitrary
    /// points throws <see cref="System.NotSupportedException"/>.
    /// </summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="layers">Number of planar layers.</param>
    /// <param name="seed">Seed for the initial parameters.</param>
    public static Flow Planar(int features = 2, int layers = 16, long seed = 0)
    {
        Guard.Features(features, nameof(features));
        Guard.Positive(layers, nameof(layers));
        using var generator = new Generator((ulong)seed);
        var chain = new List<Bijector>(layers);
        for (int i = 0; i < layers; i++) chain.Add(new Bijectors.Planar(features, generator));
        return new Flow(new StandardNormal(features), new Chain(chain));
    }

    /// <summary>
    /// A radial flow (Rezende and Mohamed, 2015): <paramref name="layers"/> <see cref="Radial"/> layers on a standard normal
    /// base. For variational inference: <see cref="Distribution.SampleWithLogProb"/> gives samples with exact
    /// log-densities, but radial layers have no closed-form inverse, so <see cref="Distribution.LogProb"/> of arbitrary
    /// points throws <see cref="System.NotSupportedException"/>.
    /// </summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="layers">Number of radial layers.</param>
    /// <param name="seed">Seed for the initial parameters.</param>
    public static Flow Radial(int features = 2, int layers = 16, long seed = 0)
    {
        Guard.Features(features, nameof(features));
        Guard.Positive(layers, nameof(layers));
        using var generator = new Generator((ulong)seed);
        var chain = new List<Bijector>(layers);
        for (int i = 0; i < layers; i++) chain.Add(new Bijectors.Radial(features, generator));
        return new Flow(new StandardNormal(features), new Chain(chain));
    }
}
