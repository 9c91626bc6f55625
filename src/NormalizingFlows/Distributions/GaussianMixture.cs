using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>
/// A mixture of <c>K</c> Gaussians with diagonal covariances:
/// <c>p(x) = sum_k w_k N(x; mu_k, diag(sigma_k^2))</c>, with <c>w = softmax(logits)</c>.
/// The weights (as logits), means and log-scales are trainable parameters, or fixed buffers.
/// <c>log p(x) = logsumexp_k (log w_k + log N(x; mu_k, diag(sigma_k^2)))</c>.
/// </summary>
/// <remarks>Sampling picks a component by the weights, then draws <c>x = mu_k + sigma_k eps</c>. The draw is
/// reparameterised in the means and scales but not in the weights (the component choice is discrete), so a loss
/// on samples gives the logits no gradient through the samples; the log-densities themselves are differentiable
/// in every parameter.</remarks>
public sealed partial class GaussianMixture : Distribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    private readonly Tensor logits;
    private readonly Tensor means;
    private readonly Tensor logScales;

    /// <summary>Creates a mixture of <paramref name="components"/> diagonal Gaussians on <paramref name="features"/> dimensions.</summary>
    /// <param name="components">Number of components <c>K</c> (at least 1).</param>
    /// <param name="features">Number of dimensions <c>D</c>.</param>
    /// <param name="weights">Initial mixture weights, <c>K</c> positive values (normalised to sum to one); null for equal weights.</param>
    /// <param name="means">Initial means, <c>K x D</c>; null to draw them from <c>N(0, 1)</c> with <paramref name="generator"/>.</param>
    /// <param name="scales">Initial standard deviations, <c>K x D</c> positive values; null for ones.</param>
    /// <param name="trainable">Whether the weights, means and scales are trained (parameters) or fixed (buffers).</param>
    /// <param name="generator">Generator for the random initial means; null uses TorchSharp's default generator.</param>
    /// <exception cref="ArgumentException">A size is not positive, or an initial value has the wrong shape or is out of range (the message names it).</exception>
    public GaussianMixture(int components, int features, IReadOnlyList<double>? weights = null, double[,]? means = null,
        double[,]? scales = null, bool trainable = true, Generator? generator = null)
        : base(nameof(GaussianMixture), new[] { (long)CheckedFeatures(features) })
    {
        if (components <= 0)
            throw new ArgumentOutOfRangeException(nameof(components), components, $"components must be at least 1; got {components}.");
        var w = weights?.ToArray() ?? Enumerable.Repeat(1.0, components).ToArray();
        if (w.Length != components) throw new ArgumentException($"Expected weights with {components} values (one per component); got {w.Length}.", nameof(weights));
        for (int k = 0; k < components; k++)
            if (!(w[k] > 0) || !double.IsFinite(w[k]))
                throw new ArgumentException($"weights[{k}] must be positive and finite; got {w[k]}.", nameof(weights));
        CheckMatrix(means, components, features, nameof(means), positive: false);
        CheckMatrix(scales, components, features, nameof(scales), positive: true);
        Components = components;
        Trainable = trainable;
        double total = w.Sum();
        var logitsTensor = torch.tensor(w.Select(v => (float)Math.Log(v / total)).ToArray()).DetachFromDisposeScope();
        Tensor meansTensor;
        if (means is null)
        {
            meansTensor = Draw.Normal(new long[] { components, features }, null, null, generator).DetachFromDisposeScope();
        }
        else
        {
            meansTensor = torch.tensor(Flatten(means, v => v), new long[] { components, features }).DetachFromDisposeScope();
        }
        var logScalesTensor = scales is null
            ? torch.zeros(components, features).DetachFromDisposeScope()
            : torch.tensor(Flatten(scales, Math.Log), new long[] { components, features }).DetachFromDisposeScope();
        if (trainable)
        {
            logits = new Parameter(logitsTensor);
            this.means = new Parameter(meansTensor);
            logScales = new Parameter(logScalesTensor);
        }
        else
        {
            logits = logitsTensor;
            this.means = meansTensor;
            logScales = logScalesTensor;
        }
        RegisterComponents();
    }

    /// <summary>Number of components <c>K</c>.</summary>
    public int Components { get; }

    /// <summary>Whether the weights, means and scales are trainable parameters.</summary>
    public bool Trainable { get; }

    /// <summary>The current mixture weights <c>[K]</c> (a copy the caller owns).</summary>
    public Tensor Weights => Snapshot.Map(logits, t => torch.softmax(t, 0));

    /// <summary>The current means <c>[K, D]</c> (a copy the caller owns).</summary>
    public Tensor Means => Snapshot.Copy(means);

    /// <summary>The current standard deviations <c>[K, D]</c> (a copy the caller owns).</summary>
    public Tensor Scales => Snapshot.Map(logScales, t => t.exp());

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        // [batch, 1, D] against [K, D]: per-component log-densities [batch, K].
        var standardized = x.unsqueeze(1).sub(means).mul(logScales.neg().exp());
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        var perComponent = standardized.pow(Scalars.Two).sum(2).mul(Scalars.Of(-0.5)).sub(logScales.sum(1)).sub(normalizer);
        return torch.logsumexp(perComponent.add(nn.functional.log_softmax(logits, 0), Scalars.One), 1);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var x = SampleCore(count, context, generator);
        return (x, LogProbCore(x, context));
    }

    /// <inheritdoc />
    protected internal override Tensor SampleCore(long count, Tensor? context, Generator? generator)
    {
        var uniform = Draw.Uniform(new[] { count }, ScalarType.Float64, means.device, generator);
        var eps = Draw.Normal(new[] { count, EventSize }, means.dtype, means.device, generator);
        return FromNoise(eps, uniform);
    }

    /// <summary>The cumulative component weights <c>[K - 1]</c> in float64 (the last, 1, left out): component <c>k</c> is chosen
    /// for a uniform <c>u</c> when exactly <c>k</c> of them are at or below <c>u</c>.</summary>
    internal Tensor CumulativeWeights()
    {
        using var scope = torch.NewDisposeScope();
        var cumulative = torch.softmax(logits.detach().to(ScalarType.Float64), 0).cumsum(0);
        return cumulative.narrow(0, 0, Components - 1).MoveToOuterDisposeScope();
    }

    /// <summary>The draw from given noise: component <c>k</c> by the inverse of the cumulative weights at the float64 uniform
    /// <paramref name="uniform"/> <c>[count]</c> (in [0, 1)), then <c>mu_k + sigma_k eps</c> for standard-normal
    /// <paramref name="eps"/> <c>[count, features]</c>. <see cref="SampleCore"/> draws both; the exported sample graph computes the
    /// same from the same noise.</summary>
    internal Tensor FromNoise(Tensor eps, Tensor uniform)
    {
        Tensor component;
        using (torch.no_grad())
        {
            // The choice runs in float64 for exact probabilities and carries no gradient.
            var cumulative = CumulativeWeights().to(uniform.device);
            component = uniform.unsqueeze(1).ge(cumulative.unsqueeze(0)).sum(1, type: ScalarType.Int64);
        }
        return torch.addcmul(means.index_select(0, component), eps, logScales.index_select(0, component).exp(), Scalars.Of(1.0));
    }

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }

    private static void CheckMatrix(double[,]? matrix, int rows, int columns, string name, bool positive)
    {
        if (matrix is null) return;
        if (matrix.GetLength(0) != rows || matrix.GetLength(1) != columns)
            throw new ArgumentException($"Expected {name} with shape [{rows}, {columns}] (components x features); got [{matrix.GetLength(0)}, {matrix.GetLength(1)}].", name);
        for (int k = 0; k < rows; k++)
            for (int d = 0; d < columns; d++)
            {
                double v = matrix[k, d];
                if (!double.IsFinite(v) || (positive && !(v > 0)))
                    throw new ArgumentException($"{name}[{k}, {d}] must be {(positive ? "positive and finite" : "finite")}; got {v}.", name);
            }
    }

    private static float[] Flatten(double[,] matrix, Func<double, double> map)
    {
        var result = new float[matrix.Length];
        int i = 0;
        foreach (double v in matrix) result[i++] = (float)map(v);
        return result;
    }
}
