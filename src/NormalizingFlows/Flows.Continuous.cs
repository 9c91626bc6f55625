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
    private static readonly int[] ContinuousHidden = { 64, 64, 64 };

    /// <summary>
    /// A continuous normalising flow (FFJORD): one <see cref="ContinuousFlow"/> (a velocity MLP with a time input, integrated
    /// over <c>[0, 1]</c> by the adaptive Dormand-Prince solver) on a standard normal base. A fresh flow is the identity.
    /// Train it by maximum likelihood (<see cref="Training.Fit.ToData(Distribution, Targets.ITarget, Training.FitOptions?, System.IProgress{Training.TrainingProgress}?, System.Threading.CancellationToken)"/>,
    /// gradients through the solver) or, much faster, by flow matching (<c>Fit.FlowMatching</c>); either way its log-densities
    /// are exact up to <see cref="ContinuousFlow.DefaultExactFeatures"/> features (and inside
    /// <see cref="Diagnostics.ExactEvaluation.Enter"/> up to <see cref="Diagnostics.ExactEvaluation.MaximumExactFeatures"/>).
    /// </summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="hiddenFeatures">Hidden widths of the velocity network; null for [64, 64, 64].</param>
    /// <param name="contextFeatures">Width of the context the velocity takes; 0 for an unconditional flow.</param>
    /// <param name="activation">Hidden nonlinearity of the velocity network.</param>
    /// <param name="divergence">How the divergence is computed; null for the default (exact up to 10 features).</param>
    /// <param name="seed">Seed for the initial weights and the Hutchinson probes.</param>
    public static Flow Continuous(int features = 2, IReadOnlyList<int>? hiddenFeatures = null, int contextFeatures = 0,
        Activation activation = Activation.Tanh, DivergenceEstimator? divergence = null, long seed = 0)
    {
        Guard.Features(features, nameof(features));
        using var generator = new Generator((ulong)seed);
        var flow = new ContinuousFlow(features, hiddenFeatures ?? ContinuousHidden, contextFeatures, activation, divergence, generator, estimatorSeed: seed * 7919 + 1);
        return new Flow(new StandardNormal(features), flow);
    }
}
