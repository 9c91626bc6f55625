using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Diagnostics;

/// <summary>
/// The one place that decides whether a model's log-densities are evaluated exactly: for the duration of a scope it makes every
/// <see cref="ResidualBlock"/> of at most <see cref="MaximumExactFeatures"/> features compute exact log-dets
/// (<see cref="ResidualLogDet.Exact"/>) instead of the Hutchinson estimate, and every <see cref="ContinuousFlow"/> of at most as
/// many features integrate the exact divergence (<see cref="DivergenceEstimator.Exact"/>, one backward pass per feature), and
/// restores the estimates afterwards.
/// <see cref="Metrics"/> and the <c>nflows</c> commands evaluate through it.
/// </summary>
/// <remarks>
/// <para>Why 16: a block's exact log-det builds the <c>D x D</c> Jacobian of its network by the chain rule, about
/// <c>D H^2</c> multiply-adds per hidden layer and row (<c>H</c> = hidden width), plus an <c>O(D^3)</c> determinant, against
/// <c>n H^2</c> for the power series' <c>n</c> vector-Jacobian products (<c>n = 8</c> by default). Up to <c>D = 2n = 16</c>
/// exact costs at most about twice the estimate (the determinant, <c>D^3 / 3</c> = 1 400 operations at 16, is small
/// beside <c>D H^2</c> = 65 000 at <c>H = 64</c>), and the Jacobians of a piece of rows (<c>rows x H x D</c> values) stay
/// within the memory of an ordinary evaluation. Beyond that both grow with <c>D</c> and <c>D^3</c>, so the estimate stays, and
/// callers report its standard error from repeated evaluations (<see cref="Metrics.NegativeLogLikelihoodEstimate"/>).
/// This is reasoned from operation counts, not timed.</para>
/// <para>Thread safety: entering and leaving are thread-safe (each block counts the scopes that hold it), so overlapping
/// scopes on several threads nest and a block stays exact until the last one ends. The mode is a property of the shared
/// model: while a scope is open, every thread evaluating the same model gets exact log-dets (the same values, more
/// accurate and a little costlier), training included. <see cref="ResidualBlock.LogDet"/>, the mode saved with the model,
/// is never changed.</para>
/// </remarks>
public static class ExactEvaluation
{
    /// <summary>Residual blocks of at most this many features are evaluated exactly (see the remarks on the class).</summary>
    public const long MaximumExactFeatures = 16;

    /// <summary>Whether <paramref name="model"/>'s log-densities are exact inside a scope from <see cref="Enter"/>: they are not
    /// estimates at all, or every estimating part is a residual block of at most <paramref name="maximumFeatures"/> features.</summary>
    /// <param name="model">The model (a flow, a distribution, or any module holding one).</param>
    /// <param name="maximumFeatures">Largest block width evaluated exactly.</param>
    public static bool IsAffordable(nn.Module model, long maximumFeatures = MaximumExactFeatures)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = Enter(model, maximumFeatures);
        return scope.IsExact;
    }

    /// <summary>Makes every <see cref="ResidualBlock"/> in <paramref name="model"/> of at most <paramref name="maximumFeatures"/>
    /// features compute exact log-dets until the returned scope is disposed: <c>using (ExactEvaluation.Enter(flow)) { ... }</c>.</summary>
    /// <param name="model">The model (a flow, a distribution, a bijector, or any module holding one).</param>
    /// <param name="maximumFeatures">Largest block width evaluated exactly; 0 switches none (the estimate stays everywhere).</param>
    /// <returns>The scope; its <see cref="ExactEvaluationScope.IsExact"/> says whether the model's log-densities are now exact.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maximumFeatures"/> is negative.</exception>
    public static ExactEvaluationScope Enter(nn.Module model, long maximumFeatures = MaximumExactFeatures)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (maximumFeatures < 0)
            throw new ArgumentOutOfRangeException(nameof(maximumFeatures), maximumFeatures, $"maximumFeatures must be 0 or more; got {maximumFeatures}.");
        var blocks = model.modules().Prepend(model).OfType<ResidualBlock>()
            .Where(b => b.EventShape.Aggregate(1L, (a, d) => a * d) <= maximumFeatures)
            .ToArray();
        var flows = model.modules().Prepend(model).OfType<ContinuousFlow>()
            .Where(f => f.EventShape[0] <= maximumFeatures)
            .ToArray();
        return new ExactEvaluationScope(model, blocks, flows);
    }
}
