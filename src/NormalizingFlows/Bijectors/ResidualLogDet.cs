namespace NormalizingFlows.Bijectors;

/// <summary>How a <see cref="ResidualBlock"/> computes <c>log det(I + J_g)</c>.</summary>
public enum ResidualLogDet
{
    /// <summary>
    /// The power series <c>sum_{k=1..n} (-1)^(k+1) tr(J_g^k) / k</c> with each trace estimated by Hutchinson's estimator
    /// <c>v^T J_g^k v</c> (one Rademacher probe <c>v</c> per row): <c>O(n)</c> vector-Jacobian products per row, for any
    /// dimension. Stochastic (unbiased for each term) and biased by the truncation after <c>n</c> terms (the tail is at
    /// most <c>sum_{k&gt;n} D Lip(g)^k / k</c>). Behrmann et al. (2019).
    /// </summary>
    PowerSeries,

    /// <summary>
    /// The full <c>D x D</c> Jacobian of <c>g</c> per row and its log-determinant: exact and deterministic, <c>O(D^3)</c>
    /// per row, for small dimensions (and for evaluating a trained model's density).
    /// </summary>
    Exact,
}
