using System.Collections.Generic;
using System.Globalization;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Inference;

/// <summary>The log-densities of a data file's rows (float64, on the CPU, in the caller's dispose scope): exact where
/// <see cref="NormalizingFlows.Diagnostics.ExactEvaluation"/> affords it, otherwise the mean of several evaluations of the
/// estimate, each with fresh probes, with per-row standard errors.</summary>
/// <param name="LogProb">log q of every row <c>[rows]</c> (the mean of the evaluations for an estimate).</param>
/// <param name="StandardError">The standard error of each row's mean <c>[rows]</c>; null when exact.</param>
/// <param name="MeanPerEvaluation">The mean log-density of all rows in each evaluation (one value when exact).</param>
/// <param name="Rows">Rows evaluated.</param>
/// <param name="Columns">Columns of the data.</param>
internal sealed record LogProbEvaluation(Tensor LogProb, Tensor? StandardError, IReadOnlyList<double> MeanPerEvaluation, long Rows, long Columns)
{
    /// <summary>Whether the log-densities are exact.</summary>
    public bool IsExact => StandardError is null;

    /// <summary>Evaluations averaged (1 when exact).</summary>
    public int Evaluations => MeanPerEvaluation.Count;

    /// <summary>The note printed beside an estimate: what was averaged and why.</summary>
    public string EstimateNote =>
        "the model's log-density is a stochastic estimate (a residual block wider than " +
        NormalizingFlows.Diagnostics.ExactEvaluation.MaximumExactFeatures.ToString(CultureInfo.InvariantCulture) +
        " features, whose exact log-det is not affordable): each value is the mean of " + Evaluations.ToString(CultureInfo.InvariantCulture) +
        " evaluations with fresh probes, +- its standard error (which does not cover the power series' truncation bias)";
}
