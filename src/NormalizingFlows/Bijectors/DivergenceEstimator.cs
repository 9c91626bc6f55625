namespace NormalizingFlows.Bijectors;

/// <summary>How a <see cref="ContinuousFlow"/> computes the divergence of its velocity field, whose integral is its log-det.</summary>
public enum DivergenceEstimator
{
    /// <summary>The exact trace of the Jacobian: one backward pass per feature at every function evaluation.</summary>
    Exact,

    /// <summary>Hutchinson's estimate <c>e^T J e</c> with one standard-normal probe <c>e</c> per row, fixed for the whole
    /// integration: one backward pass per evaluation, unbiased, random.</summary>
    HutchinsonGaussian,

    /// <summary>Hutchinson's estimate with one Rademacher probe (entries +-1) per row: lower variance than the Gaussian one.</summary>
    HutchinsonRademacher,
}
