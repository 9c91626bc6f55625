using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// A circular Gaussian mixture (normflows' <c>CircularGaussianMixture</c>): an equally weighted mixture of isotropic
/// Gaussians <c>N(m_k, s^2 I)</c> with means on a circle, <c>m_k = R (sin(2 pi k / n), cos(2 pi k / n))</c> (the first
/// at the top), and by default <c>s = (R / 3) sin(pi / n)</c>, so that neighbouring modes are about three deviations
/// apart. Defaults: <c>n = 8</c>, <c>R = 2</c> (<c>s</c> about 0.255). Exact density <c>p(x) = 1/n sum_k N(x; m_k, s^2 I)</c>;
/// samples pick a mean uniformly and add <c>N(0, s^2 I)</c>.
/// </summary>
public sealed class CircleMixture : ITarget
{
    private readonly IsotropicMixture mixture;

    /// <summary>Creates the mixture.</summary>
    /// <param name="modes">Number of Gaussians <c>n</c>; at least 2.</param>
    /// <param name="radius">Radius <c>R</c> of the circle of means; positive.</param>
    /// <param name="std">Standard deviation <c>s</c> of each Gaussian; positive; null for <c>(R / 3) sin(pi / n)</c>.</param>
    public CircleMixture(int modes = 8, double radius = 2.0, double? std = null)
    {
        if (modes < 2) throw new ArgumentOutOfRangeException(nameof(modes), modes, $"modes must be at least 2; got {modes}.");
        Guard.Positive(radius, nameof(radius));
        Modes = modes;
        Radius = radius;
        Std = std ?? radius / 3 * Math.Sin(Math.PI / modes);
        Guard.Positive(Std, nameof(std));
        var xs = new double[modes];
        var ys = new double[modes];
        for (int k = 0; k < modes; k++)
        {
            xs[k] = radius * Math.Sin(2 * Math.PI * k / modes);
            ys[k] = radius * Math.Cos(2 * Math.PI * k / modes);
        }
        mixture = new IsotropicMixture(xs, ys, Std);
        double half = radius + 5 * Std;
        Bounds = new Box(-half, half, -half, half);
    }

    /// <summary>Number of Gaussians <c>n</c>.</summary>
    public int Modes { get; }

    /// <summary>Radius <c>R</c> of the circle the means lie on.</summary>
    public double Radius { get; }

    /// <summary>Standard deviation <c>s</c> of each Gaussian.</summary>
    public double Std { get; }

    /// <inheritdoc />
    public string Name => "circle-mixture";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>The square <c>[-h, h]^2</c> with <c>h = R + 5 s</c> (about 3.28 by default).</summary>
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
