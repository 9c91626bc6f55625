using System;
using System.Collections.Generic;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>
/// A Gaussian with diagonal covariance whose mean and log-scale a network computes from the context:
/// <c>p(x | c) = N(x; mu(c), diag(exp(2 s(c))))</c> with <c>[mu(c), s(c)] = net(c)</c> (the first <c>features</c>
/// outputs are the mean, the next <c>features</c> the log-scale). The base of a conditional flow.
/// </summary>
/// <remarks>
/// Every call needs a context <c>[batch, ContextFeatures]</c>. <see cref="Distribution.Sample"/> and
/// <see cref="Distribution.SampleWithLogProb"/> draw one sample per context row, so <c>count</c> must equal the
/// context's rows; to draw many samples for one context, repeat its row (e.g. <c>context.expand(n, -1)</c>).
/// </remarks>
public sealed partial class ConditionalDiagonalGaussian : Distribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    private readonly Conditioner network;

    /// <summary>Creates the distribution with an <see cref="Mlp"/> context network whose last layer starts at zero,
    /// so that it starts as <c>N(0, I)</c> for every context.</summary>
    /// <param name="features">Number of dimensions of <c>x</c>.</param>
    /// <param name="contextFeatures">Width of the context (at least 1).</param>
    /// <param name="hiddenFeatures">Hidden widths of the context network, e.g. <c>[64, 64]</c>.</param>
    /// <param name="activation">Hidden nonlinearity.</param>
    /// <param name="generator">Generator for the initial weights; null uses TorchSharp's default generator.</param>
    public ConditionalDiagonalGaussian(int features, int contextFeatures, IReadOnlyList<int> hiddenFeatures,
        Activation activation = Activation.Relu, Generator? generator = null)
        : this(features, new Mlp(CheckedContext(contextFeatures), 2 * CheckedFeatures(features), hiddenFeatures, 0, activation, true, generator))
    {
    }

    /// <summary>Creates the distribution with any context network: it takes the context as its input
    /// (<c>InFeatures</c> = context width, <c>ContextFeatures</c> = 0) and gives <c>2 * features</c> outputs
    /// (means, then log-scales).</summary>
    /// <param name="features">Number of dimensions of <c>x</c>.</param>
    /// <param name="network">The context network.</param>
    /// <exception cref="ArgumentException">The network's widths do not fit (the message names expected and actual widths).</exception>
    public ConditionalDiagonalGaussian(int features, Conditioner network)
        : base(nameof(ConditionalDiagonalGaussian), new[] { (long)CheckedFeatures(features) }, CheckedNetwork(features, network))
    {
        this.network = network;
        RegisterComponents();
    }

    /// <summary>The context network.</summary>
    public Conditioner Network => network;

    /// <summary>The mean and standard deviation for each context row, each <c>[batch, features]</c>, without gradients (the caller owns both).</summary>
    /// <param name="context">Context rows <c>[batch, ContextFeatures]</c>, of the network's dtype on its device.</param>
    /// <exception cref="ArgumentException">The context has the wrong shape, or is not of the network's dtype on its device.</exception>
    public (Tensor Mean, Tensor Scale) MeanAndScale(Tensor context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Context(context, ContextFeatures, context.size(0), nameof(context));
        CheckPlacement(null, "x", context);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (mean, logScale) = MeanAndLogScale(context);
        return scope.MoveToOuter(mean, logScale.exp());
    }

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        var (mean, logScale) = MeanAndLogScale(Required(context));
        var standardized = x.sub(mean).mul(logScale.neg().exp());
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        return standardized.pow(Scalars.Two).sum(1).mul(Scalars.Of(-0.5)).sub(logScale.sum(1)).sub(normalizer);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var (mean, logScale) = MeanAndLogScale(Required(context));
        var eps = Draw.Normal(new[] { count, EventSize }, mean.dtype, mean.device, generator);
        var x = torch.addcmul(mean, eps, logScale.exp(), Scalars.Of(1.0));
        using var normalizer = (EventSize * HalfLog2Pi).ToScalar();
        var logProb = eps.pow(Scalars.Two).sum(1).mul(Scalars.Of(-0.5)).sub(logScale.sum(1)).sub(normalizer);
        return (x, logProb);
    }

    private (Tensor Mean, Tensor LogScale) MeanAndLogScale(Tensor context)
    {
        var output = network.call(context, null);
        return (output.narrow(1, 0, EventSize), output.narrow(1, EventSize, EventSize));
    }

    private Tensor Required(Tensor? context) =>
        context ?? throw new ArgumentException($"{nameof(ConditionalDiagonalGaussian)} needs a context with {ContextFeatures} features; got none.", nameof(context));

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }

    private static int CheckedContext(int contextFeatures)
    {
        if (contextFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(contextFeatures), contextFeatures, $"contextFeatures must be at least 1 for a conditional distribution; got {contextFeatures}.");
        return contextFeatures;
    }

    private static int CheckedNetwork(int features, Conditioner network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.ContextFeatures != 0 || network.InFeatures <= 0)
            throw new ArgumentException(
                $"The context network must take the context as its input (InFeatures = context width, ContextFeatures = 0); it has InFeatures = {network.InFeatures}, ContextFeatures = {network.ContextFeatures}.",
                nameof(network));
        if (network.OutFeatures != 2 * features)
            throw new ArgumentException(
                $"The context network must give 2 x {features} = {2 * features} outputs (means, then log-scales); it gives {network.OutFeatures}.", nameof(network));
        return network.InFeatures;
    }
}
