using System.Collections.Generic;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Distributions;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

public static partial class Flows
{
    /// <summary>
    /// A residual flow (i-ResNet, Behrmann et al. 2019): <paramref name="layers"/> invertible residual blocks
    /// <c>z = x + g(x)</c> (spectrally normalised MLPs, ELU activations), each wrapped in <see cref="Invert"/> so that the
    /// explicit direction maps data to base as in the paper: <see cref="Distribution.LogProb"/> evaluates <c>x + g(x)</c>
    /// and the log-det series, and sampling inverts each block by fixed-point iteration. The base is a trainable
    /// diagonal Gaussian (it supplies the global shift and scale that Lipschitz-constrained blocks cannot make cheaply).
    /// </summary>
    /// <remarks>With <see cref="ResidualLogDet.PowerSeries"/> (the default) <see cref="Distribution.LogProb"/> is a stochastic
    /// estimate, biased by the truncation, and the flow says so (<see cref="Distribution.LogProbIsEstimate"/>). The library's
    /// evaluations (<see cref="Diagnostics.Metrics"/>, grid marginals, importance sampling, validation losses) and the
    /// <c>nflows</c> commands evaluate it inside <see cref="Diagnostics.ExactEvaluation.Enter"/>, exact up to
    /// <see cref="Diagnostics.ExactEvaluation.MaximumExactFeatures"/> features; do the same for your own evaluations
    /// (<c>using (ExactEvaluation.Enter(flow)) { ... }</c>), or switch for good with
    /// <c>ResidualBlock.SetLogDet(flow, ResidualLogDet.Exact)</c>.</remarks>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="layers">Number of residual blocks.</param>
    /// <param name="hiddenFeatures">Hidden widths of each block's network; null for [64, 64].</param>
    /// <param name="lipschitzCoefficient">Spectral-norm bound of every linear layer, in (0, 1).</param>
    /// <param name="logDet">How the blocks compute their log-determinants.</param>
    /// <param name="seed">Seed for the initial weights and the blocks' Hutchinson probes.</param>
    public static Flow ResidualFlow(int features = 2, int layers = 8, IReadOnlyList<int>? hiddenFeatures = null, double lipschitzCoefficient = 0.9,
        ResidualLogDet logDet = ResidualLogDet.PowerSeries, long seed = 0)
    {
        Guard.Features(features, nameof(features));
        Guard.Positive(layers, nameof(layers));
        using var generator = new Generator((ulong)seed);
        var blocks = new List<Bijector>(layers);
        for (int i = 0; i < layers; i++)
        {
            var block = new ResidualBlock(features, hiddenFeatures ?? DefaultHidden, lipschitzCoefficient, Activation.Elu, logDet, generator, estimatorSeed: seed * 7919 + i);
            blocks.Add(new Invert(block));
        }
        return new Flow(new DiagonalGaussian(features, trainable: true), new Chain(blocks));
    }
}
