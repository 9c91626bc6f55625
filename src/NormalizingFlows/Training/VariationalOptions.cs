using System;

namespace NormalizingFlows.Training;

/// <summary>Settings specific to a fit to a target density (reverse KL, <see cref="Fit.ToDensity(Distribution, Func{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor}, FitOptions?, VariationalOptions?, IProgress{TrainingProgress}?, System.Threading.CancellationToken)"/>).</summary>
public sealed record VariationalOptions
{
    /// <summary>Annealing: the loss is <c>mean(log q(x) - beta log p(x))</c> with <c>beta</c> rising linearly from this value to 1
    /// over <see cref="AnnealingIterations"/> steps; a small start lets the flow spread out before it has to find every mode.
    /// 1 for no annealing.</summary>
    public double InitialBeta { get; init; } = 1.0;

    /// <summary>Steps over which <c>beta</c> rises to 1; 0 for no annealing.</summary>
    public int AnnealingIterations { get; init; }

    /// <summary>Use the path-derivative ("sticking the landing", Roeder et al. 2017) gradient: the score term
    /// <c>d log q_phi(x) / d phi</c> at fixed <c>x</c>, whose expectation is zero, is removed from the gradient, which lowers
    /// its variance as q approaches p. Costs one more density evaluation per step and needs a flow with an inverse.</summary>
    public bool PathDerivative { get; init; }

    /// <summary>Checks every option; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (!(InitialBeta > 0 && InitialBeta <= 1))
            throw new ArgumentOutOfRangeException(nameof(InitialBeta), InitialBeta, $"InitialBeta must be in (0, 1]; got {InitialBeta}.");
        if (AnnealingIterations < 0)
            throw new ArgumentOutOfRangeException(nameof(AnnealingIterations), AnnealingIterations, $"AnnealingIterations must be 0 or more; got {AnnealingIterations}.");
    }

    internal double BetaAt(int iteration) =>
        AnnealingIterations == 0 || iteration >= AnnealingIterations ? 1.0 : InitialBeta + (1 - InitialBeta) * iteration / AnnealingIterations;
}
