using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Targets;

/// <summary>
/// The banana of the second and third source documents: <c>x2 ~ N(0, 4^2)</c>, <c>x1 | x2 ~ N(x2^2 / 4, 1)</c>.
/// <c>log p = log N(x2; 0, 16) + log N(x1; x2^2 / 4, 1)</c>.
/// </summary>
public sealed class Banana : ITarget
{
    private static readonly double Log2Pi = Math.Log(2 * Math.PI);

    /// <inheritdoc />
    public string Name => "banana";

    /// <inheritdoc />
    public int Features => 2;

    /// <inheritdoc />
    public bool IsNormalized => true;

    /// <summary>
    /// <c>[-5, 50] x [-15, 15]</c>: holds 99.96 % of the mass. (The tutorials' plotting box <c>[-10, 40] x [-20, 20]</c>
    /// holds only 99.84 %: <c>x1</c> passes 40 whenever <c>|x2|</c> passes about 12.6, three deviations.)
    /// </summary>
    public Box Bounds { get; } = new(-5, 50, -15, 15);

    /// <inheritdoc />
    public Tensor LogDensity(Tensor x)
    {
        Guard.Batch(x, new long[] { 2 }, nameof(x));
        using var scope = torch.NewDisposeScope();
        var x1 = x.select(1, 0);
        var x2 = x.select(1, 1);
        var logP2 = x2.pow(Scalars.Two).div(Scalars.Of(16.0)).add(Scalars.Of(Log2Pi + Math.Log(16.0)), Scalars.One).mul(Scalars.Of(-0.5));
        var logP1 = x1.sub(x2.pow(Scalars.Two).div(Scalars.Of(4.0))).pow(Scalars.Two).add(Scalars.Of(Log2Pi), Scalars.One).mul(Scalars.Of(-0.5));
        return scope.MoveToOuter(logP1.add(logP2, Scalars.One));
    }

    /// <inheritdoc />
    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        Guard.Positive(count, nameof(count));
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? ScalarType.Float32;
        var x2 = Draw.Normal(new[] { count }, type, device, generator).mul(Scalars.Of(4.0));
        var x1 = Draw.Normal(new[] { count }, type, device, generator).add(x2.pow(Scalars.Two).div(Scalars.Of(4.0)), Scalars.One);
        return scope.MoveToOuter(torch.stack(new[] { x1, x2 }, 1));
    }
}
