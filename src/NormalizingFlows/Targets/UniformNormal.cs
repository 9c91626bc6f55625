using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// The first source tutorial's target on <c>(a, b)</c>: <c>a ~ Uniform[1, 2]</c>, <c>b | a ~ N(a, variance a)</c>.
/// <c>log p(a, b) = -0.5 (log 2 pi + log a + (b - a)^2 / a)</c> for <c>a</c> in <c>[1, 2]</c>, <c>-inf</c> elsewhere.
/// </summary>
public sealed class UniformNormal : ITarget
{
    private static readonly double Log2Pi = Math.Log(2 * Math.PI);

    /// <inheritdoc />
    public string Name => "uniform-normal";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary><c>[0.5, 2.5] x [-6, 10]</c>: all of <c>a</c>'s support and <c>b</c> within 5.6 deviations (mass outside below <c>1e-8</c>).</summary>
    public Box Bounds { get; } = new(0.5, 2.5, -6, 10);

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        var a = x.select(1, 0);
        var b = x.select(1, 1);
        var logP = a.log().add(b.sub(a).pow(Scalars.Two).div(a), Scalars.One).add(Scalars.Of(Log2Pi), Scalars.One).mul(Scalars.Of(-0.5));
        var inside = a.ge(Scalars.Of(1.0)).logical_and(a.le(Scalars.Of(2.0)));
        return scope.MoveToOuter(torch.where(inside, logP, torch.full_like(logP, Scalars.Of(double.NegativeInfinity))));
    }

    /// <inheritdoc />
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? ScalarType.Float32;
        var a = Draw.Uniform(new[] { count }, type, device, generator).add(Scalars.Of(1.0), Scalars.One);
        var b = Draw.Normal(new[] { count }, type, device, generator).mul(a.sqrt()).add(a, Scalars.One);
        return scope.MoveToOuter(torch.stack(new[] { a, b }, 1));
    }

    /// <summary>The exact marginal density of <c>a</c> (1 on <c>[1, 2]</c>, 0 elsewhere).</summary>
    public static double MarginalA(double a) => a >= 1 && a <= 2 ? 1.0 : 0.0;
}
