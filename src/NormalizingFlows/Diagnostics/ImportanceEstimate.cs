using System;

namespace NormalizingFlows.Diagnostics;

/// <summary>
/// Importance sampling with a flow <c>q</c> as proposal for a target <c>p = p~ / Z</c>: weights <c>w = p~(x) / q(x)</c>, <c>x ~ q</c>.
/// </summary>
/// <param name="LogNormalizer">Estimate of <c>log Z = log E_q[w]</c> (a lower bound in expectation, by Jensen; exact when q = p).</param>
/// <param name="EffectiveSampleSize">Kish's effective sample size <c>(sum w)^2 / sum w^2</c>: equals <see cref="Samples"/> when q = p.</param>
/// <param name="Samples">Number of draws.</param>
/// <param name="EvidenceLowerBound">The mean of <c>log w</c>: <c>log Z - KL(q || p)</c>, a lower bound of <see cref="LogNormalizer"/>.</param>
public sealed record ImportanceEstimate(double LogNormalizer, double EffectiveSampleSize, long Samples, double EvidenceLowerBound)
{
    /// <summary>Effective sample size as a fraction of the draws, in (0, 1]: 1 for a perfect proposal.</summary>
    public double EffectiveSampleFraction => EffectiveSampleSize / Samples;

    /// <summary>Estimate of <c>KL(q || p)</c> in nats: <see cref="LogNormalizer"/> minus <see cref="EvidenceLowerBound"/>
    /// (the reverse KL, for a target whose normaliser is unknown).</summary>
    public double ReverseKl => Math.Max(0, LogNormalizer - EvidenceLowerBound);
}
