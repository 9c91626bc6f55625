using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Images;

/// <summary>
/// Turning discrete pixel values into continuous data a flow can model, and scoring the flow on the original discrete scale.
/// Uniform dequantisation as in Theis, van den Oord and Bethge, "A note on the evaluation of generative models" (2016), used by
/// RealNVP and Glow.
/// </summary>
public static class Dequantization
{
    /// <summary>
    /// Uniform dequantisation: returns <c>(k + u) / levels</c> with <c>u ~ U[0, 1)</c> drawn independently for every value, so that
    /// pixel level <c>k</c> becomes a point of the cell <c>[k / levels, (k + 1) / levels)</c> and the result lies in [0, 1).
    /// </summary>
    /// <param name="levels">Integer pixel levels <c>k</c> in <c>0 .. levelCount - 1</c>, any shape and dtype (e.g. digits' 0..16 with
    /// <paramref name="levelCount"/> = 17, or 8-bit images 0..255 with 256). Values stored as <c>k / (levelCount - 1)</c> in [0, 1]
    /// must be multiplied back by <c>levelCount - 1</c> first.</param>
    /// <param name="levelCount">Number of discrete levels; at least 2.</param>
    /// <param name="generator">Generator for the uniform noise; null uses TorchSharp's default generator.</param>
    /// <returns>A new tensor of the same shape: the input's dtype when it is floating point, float32 otherwise.</returns>
    /// <exception cref="ArgumentException">A value is not an integer in <c>0 .. levelCount - 1</c> (the message names it).</exception>
    public static Tensor Uniform(Tensor levels, int levelCount, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.IsInvalid) throw new ArgumentException("levels has been disposed.", nameof(levels));
        if (levelCount < 2) throw new ArgumentOutOfRangeException(nameof(levelCount), levelCount, $"levelCount must be at least 2; got {levelCount}.");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var k = levels.detach().to(ScalarType.Float64);
        using var topLevel = (levelCount - 1).ToScalar();
        var bad = k.isfinite().logical_not().logical_or(k.ne(k.round())).logical_or(k.lt(Scalars.Zero)).logical_or(k.gt(topLevel));
        if (bad.any().item<bool>())
        {
            double value = k.flatten()[bad.flatten().nonzero()[0, 0]].item<double>();
            throw new ArgumentException(
                $"Expected levels to hold integers from 0 to {levelCount - 1}; got {value}. (Data scaled to [0, 1] as k / {levelCount - 1} must be multiplied by {levelCount - 1} first.)",
                nameof(levels));
        }
        var dtype = levels.is_floating_point() ? levels.dtype : ScalarType.Float32;
        var noise = Draw.Uniform(levels.shape, ScalarType.Float64, levels.device, generator);
        // (k + u) / levelCount can round up to exactly 1 (or the next cell) in a narrow dtype: keep the promise of [0, 1).
        var below = 1.0 - torch.finfo(dtype).eps / 2;
        using var levelCountScalar = levelCount.ToScalar();
        using var belowScalar = below.ToScalar();
        var result = k.add(noise, Scalars.One).div(levelCountScalar).to(dtype).clamp_max(belowScalar);
        return scope.MoveToOuter(result);
    }

    /// <summary>
    /// Converts the mean negative log-likelihood of uniformly dequantised data (in [0, 1)^D, as from <see cref="Uniform"/>) into bits
    /// per dimension on the original discrete scale: <c>nll / (D ln 2) + log2(levels)</c>.
    /// </summary>
    /// <remarks>
    /// Derivation. Let <c>p</c> be the model density of the continuous data <c>y = (k + u) / L</c> on [0, 1)^D, and
    /// <c>P(k) = integral of p over the cell of k</c> the discrete model it implies; each cell has volume <c>L^-D</c>. Writing the
    /// integral as <c>L^-D E_u[p((k + u) / L)]</c> and applying Jensen's inequality to the log,
    /// <c>log P(k) &gt;= E_u[log p((k + u) / L)] - D log L</c>. So the discrete negative log-likelihood in nats is at most
    /// <c>nll + D log L</c>, where <c>nll = -E[log p(y)]</c> is what training on dequantised data measures. Dividing by
    /// <c>D ln 2</c> gives bits per dimension: <c>nll / (D ln 2) + log2 L</c>, an upper bound on the discrete model's
    /// code length, comparable with published figures. Check: the uniform density on [0, 1)^D has <c>nll = 0</c> and gets
    /// exactly <c>log2 L</c> bits per dimension, the cost of coding each of <c>L</c> levels with equal probability. (Equivalently,
    /// data on the scale <c>k + u</c> in [0, L) has density <c>p / L^D</c>, and its plain bits per dimension are the same number.)
    /// </remarks>
    /// <param name="meanNegativeLogLikelihoodNats">Mean negative log-likelihood per example of the dequantised data in [0, 1)^D, in nats.</param>
    /// <param name="dimensions">Values per example <c>D</c> (e.g. channels x height x width); at least 1.</param>
    /// <param name="levels">Discrete levels <c>L</c> per value before dequantisation; at least 2.</param>
    /// <exception cref="ArgumentException">The likelihood is not finite, or a count is out of range.</exception>
    public static double BitsPerDimension(double meanNegativeLogLikelihoodNats, long dimensions, int levels)
    {
        if (!double.IsFinite(meanNegativeLogLikelihoodNats))
            throw new ArgumentOutOfRangeException(nameof(meanNegativeLogLikelihoodNats), meanNegativeLogLikelihoodNats,
                $"meanNegativeLogLikelihoodNats must be finite; got {meanNegativeLogLikelihoodNats}.");
        Guard.Positive(dimensions, nameof(dimensions));
        if (levels < 2) throw new ArgumentOutOfRangeException(nameof(levels), levels, $"levels must be at least 2; got {levels}.");
        return meanNegativeLogLikelihoodNats / (dimensions * Math.Log(2)) + Math.Log2(levels);
    }
}
