using System;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

/// <summary>A test target shaped like a small banana: <c>x2 ~ N(0, s2^2)</c>, <c>x1 | x2 ~ N(a x2^2, s1^2)</c> (normalised).
/// The banana of the tutorials is <c>s2 = 4, a = 1/4, s1 = 1</c>.</summary>
public sealed class CurvedGaussian(double curvature = 0.5, double spread = 1.0, double noise = 0.5) : ITarget
{
    private static readonly double Log2Pi = Math.Log(2 * Math.PI);

    public string Name => "curved-gaussian";
    public int Features => 2;
    public bool IsNormalized => true;

    /// <summary>Six standard deviations of x2, and the matching range of x1.</summary>
    public Box Bounds => new(-6 * noise, curvature * 36 * spread * spread + 6 * noise, -6 * spread, 6 * spread);

    public Tensor LogDensity(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var x1 = x.select(1, 0);
        var x2 = x.select(1, 1);
        var logP2 = x2.div(spread).square().add(Log2Pi + 2 * Math.Log(spread)).mul(-0.5);
        var logP1 = x1.sub(x2.square().mul(curvature)).div(noise).square().add(Log2Pi + 2 * Math.Log(noise)).mul(-0.5);
        return scope.MoveToOuter(logP1.add(logP2));
    }

    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? ScalarType.Float32;
        var x2 = torch.randn(count, dtype: type, device: device, generator: generator).mul(spread);
        var x1 = torch.randn(count, dtype: type, device: device, generator: generator).mul(noise).add(x2.square().mul(curvature));
        return scope.MoveToOuter(torch.stack(new[] { x1, x2 }, 1));
    }
}
