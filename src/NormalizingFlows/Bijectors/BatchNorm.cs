using System;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Batch normalisation as a bijector, normalising in the data -> base direction, with a learnable log-scale
/// <c>gamma</c> and shift <c>beta</c> per feature (both start at zero).
/// Forward: <c>y = (x - beta) exp(-gamma) sqrt(v + eps) + m</c>; log-det: <c>sum(-gamma + log(v + eps) / 2)</c>.
/// Inverse: <c>x = (y - m) / sqrt(v + eps) exp(gamma) + beta</c>; log-det: <c>sum(gamma - log(v + eps) / 2)</c>.
/// Statistics <c>m</c>, <c>v</c>: in evaluation mode (<c>eval()</c>) both directions use the running mean and variance.
/// In training mode (<c>train()</c>) <see cref="Bijector.Inverse"/>, the direction <see cref="Distribution.LogProb"/>
/// uses, normalises with the mean and (biased) variance of its own batch and updates the running statistics,
/// <c>running = (1 - momentum) running + momentum batch</c> (unbiased variance); <see cref="Bijector.Forward"/> always
/// uses the running statistics and updates nothing.
/// Dinh et al., "Density estimation using Real NVP" (2017), section 3.7; Papamakarios et al.,
/// "Masked autoregressive flow for density estimation" (2017), section 3.4.
/// </summary>
/// <remarks>In training mode the inverse log-det depends on the whole batch through its variance (it treats the
/// batch statistics as constants of the map, as both papers do), so a row's log-density there depends on the other
/// rows, and training-mode Forward is the inverse of the evaluation-mode Inverse, not of the training-mode one.
/// Evaluate densities and sample in evaluation mode (<c>Fit</c> switches a model to it when it finishes).</remarks>
public sealed partial class BatchNorm : Bijector
{
    private readonly Parameter logScale;
    private readonly Parameter shift;
    private readonly Tensor runningMean;
    private readonly Tensor runningVariance;
    private readonly double momentum;
    private readonly double epsilon;

    /// <summary>Creates a batch-normalisation layer whose running statistics start at mean 0 and variance 1.</summary>
    /// <param name="features">Number of features.</param>
    /// <param name="momentum">Weight of the newest batch in the running statistics, in <c>(0, 1]</c>.</param>
    /// <param name="epsilon">Added to the variance before the square root (positive).</param>
    public BatchNorm(int features, double momentum = 0.1, double epsilon = 1e-5) : base(nameof(BatchNorm), new[] { (long)CheckedFeatures(features) })
    {
        if (!(momentum > 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"momentum must be in (0, 1]; got {momentum}.");
        Guard.Positive(epsilon, nameof(epsilon));
        this.momentum = momentum;
        this.epsilon = epsilon;
        logScale = new Parameter(torch.zeros(features).DetachFromDisposeScope());
        shift = new Parameter(torch.zeros(features).DetachFromDisposeScope());
        runningMean = torch.zeros(features).DetachFromDisposeScope();
        runningVariance = torch.ones(features).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Weight of the newest batch in the running statistics.</summary>
    public double Momentum => momentum;

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon => epsilon;

    /// <summary>The running mean (a copy the caller owns).</summary>
    public Tensor RunningMean => Snapshot.Copy(runningMean);

    /// <summary>The running variance (a copy the caller owns).</summary>
    public Tensor RunningVariance => Snapshot.Copy(runningVariance);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        using var epsilonScalar = epsilon.ToScalar();
        var logStd = runningVariance.add(epsilonScalar, Scalars.One).log().mul(Scalars.Of(0.5));
        var y = x.sub(shift).mul(logStd.sub(logScale).exp()).add(runningMean, Scalars.One);
        return (y, logStd.sub(logScale).sum().expand(x.size(0)));
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        Tensor mean, variance;
        if (training)
        {
            long rows = y.size(0);
            if (rows < 2)
                throw new ArgumentException(
                    $"BatchNorm in training mode normalises with the batch's own variance and needs at least 2 rows; got {rows}. Call eval() to use the running statistics.",
                    nameof(y));
            mean = y.mean(new long[] { 0 });
            variance = y.var(0, unbiased: false);
            using (torch.no_grad())
            {
                using var keep = (1 - momentum).ToScalar();
                using var momentumScalar = momentum.ToScalar();
                using var varianceWeight = (momentum * rows / (rows - 1.0)).ToScalar();
                runningMean.mul_(keep).add_(mean.detach().mul(momentumScalar), Scalars.One);
                runningVariance.mul_(keep).add_(variance.detach().mul(varianceWeight), Scalars.One);
            }
        }
        else
        {
            mean = runningMean;
            variance = runningVariance;
        }
        using var epsilonScalar = epsilon.ToScalar();
        var logStd = variance.add(epsilonScalar, Scalars.One).log().mul(Scalars.Of(0.5));
        var x = y.sub(mean).mul(logScale.sub(logStd).exp()).add(shift, Scalars.One);
        return (x, logScale.sub(logStd).sum().expand(y.size(0)));
    }

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }
}
