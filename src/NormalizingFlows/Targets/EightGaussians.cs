using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// Eight Gaussians on a circle (FFJORD's "8gaussians"): an equally weighted mixture of <c>N(m_k, s^2 I)</c> with means
/// <c>m_k = R (cos(k pi / 4), sin(k pi / 4))</c>, <c>k = 0 .. 7</c>. Defaults as FFJORD's: <c>R = 2 sqrt 2</c> (about 2.83),
/// <c>s = sqrt 2 / 4</c> (about 0.354). Exact density
/// <c>p(x) = 1/8 sum_k N(x; m_k, s^2 I)</c>; samples pick a mean uniformly and add <c>N(0, s^2 I)</c>.
/// </summary>
public sealed class EightGaussians : ITarget
{
    private readonly IsotropicMixture mixture;

    /// <summary>Creates the eight Gaussians.</summary>
    /// <param name="radius">Radius <c>R</c> of the circle of means; positive. <c>2 sqrt 2</c> by default (null).</param>
    /// <param name="std">Standard deviation <c>s</c> of each Gaussian; positive. <c>sqrt 2 / 4</c> by default (null).</param>
    public EightGaussians(double? radius = null, double? std = null)
    {
        Radius = radius ?? 2 * Math.Sqrt(2);
        Std = std ?? Math.Sqrt(2) / 4;
        Guard.Positive(Radius, nameof(radius));
        Guard.Positive(Std, nameof(std));
        var xs = new double[8];
        var ys = new double[8];
        for (int k = 0; k < 8; k++)
        {
            xs[k] = Radius * Math.Cos(k * Math.PI / 4);
            ys[k] = Radius * Math.Sin(k * Math.PI / 4);
        }
        mixture = new IsotropicMixture(xs, ys, Std);
        double half = Radius + 5 * Std;
        Bounds = new Box(-half, half, -half, half);
    }

    /// <summary>Radius <c>R</c> of the circle the means lie on.</summary>
    public double Radius { get; }

    /// <summary>Standard deviation <c>s</c> of each Gaussian.</summary>
    public double Std { get; }

    /// <inheritdoc />
    public string Name => "eight-gaussians";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>The square <c>[-h, h]^2</c> with <c>h = R + 5 s</c> (about 4.6 by default).</summary>
    public Box Bounds { get; }

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(mixture.LogDensity(x));
    }

    /// <inheritdoc />
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(mixture.Sample(count, generator, dtype ?? Sampling.DefaultType, device));
    }
}
