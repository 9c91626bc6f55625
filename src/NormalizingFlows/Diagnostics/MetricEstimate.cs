using System;
using System.Globalization;
using System.Linq;

namespace NormalizingFlows.Diagnostics;

/// <summary>
/// A measure of a model together with how far it can be trusted: exact (a model whose log-densities are exact, or were made so
/// by <see cref="ExactEvaluation"/>) or the mean of <see cref="Evaluations"/> independent evaluations of a stochastic estimate,
/// with the standard error of that mean.
/// </summary>
/// <param name="Value">The value (for an estimate, the mean of the evaluations).</param>
/// <param name="StandardError">The standard error of <paramref name="Value"/> over the estimator's randomness: the sample
/// standard deviation of the evaluations over the square root of their number; 0 when exact. It does not cover a bias of the
/// estimator (a residual block's power series is truncated), nor the sampling error of the data or target samples.</param>
/// <param name="IsExact">Whether the value is exact rather than an estimate.</param>
/// <param name="Evaluations">How many evaluations <paramref name="Value"/> averages (1 when exact).</param>
public sealed record MetricEstimate(double Value, double StandardError, bool IsExact, int Evaluations)
{
    /// <summary>The mean and standard error of independent evaluations of an estimate.</summary>
    /// <param name="values">At least two evaluations.</param>
    /// <exception cref="ArgumentException">Fewer than two values.</exception>
    public static MetricEstimate FromRepeats(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length < 2)
            throw new ArgumentException($"A standard error needs at least two evaluations; got {values.Length}.", nameof(values));
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        return new MetricEstimate(mean, Math.Sqrt(variance / values.Length), false, values.Length);
    }

    /// <summary>The value alone when exact; otherwise <c>"value +- standard error (estimate, n repeats)"</c>.</summary>
    /// <param name="format">Numeric format of both numbers, e.g. <c>"F4"</c>.</param>
    public string Format(string format) => IsExact
        ? Value.ToString(format, CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture,
            $"{Value.ToString(format, CultureInfo.InvariantCulture)} +- {StandardError.ToString(format, CultureInfo.InvariantCulture)} (estimate, {Evaluations} repeats)");

    /// <inheritdoc />
    public override string ToString() => Format("G6");
}
