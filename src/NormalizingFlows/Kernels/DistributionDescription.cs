namespace NormalizingFlows.Kernels;

/// <summary>What a base distribution tells the kernels about itself (<see cref="IFusableDistribution"/>), so that a flow's
/// log-density can end its block chain in the base density (<see cref="FusedChain.TryLogProb"/>).</summary>
internal abstract record DistributionDescription;

/// <summary>A standard normal on <paramref name="Features"/> values (<see cref="Distributions.StandardNormal"/>).</summary>
/// <param name="Features">Values of the event.</param>
/// <param name="LogNormalizer"><c>D log(2 pi) / 2</c>, as the distribution computes it.</param>
internal sealed record StandardNormalDescription(int Features, double LogNormalizer) : DistributionDescription;

/// <summary>A base distribution that describes itself to the kernels.</summary>
internal interface IFusableDistribution
{
    /// <summary>What it is, for the kernels; null where no kernel computes its density.</summary>
    DistributionDescription? DescribeForKernels();
}
