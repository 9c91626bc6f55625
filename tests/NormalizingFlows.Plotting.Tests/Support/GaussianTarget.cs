using System;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Plotting.Tests.Support;

/// <summary>An axis-aligned 2-D Gaussian target with an exact density (or, shifted by a constant, an unnormalised one).</summary>
public sealed class GaussianTarget : ITarget
{
    private readonly double[] mean;
    private readonly double[] scale;
    private readonly double logOffset;

    public GaussianTarget(double meanX, double meanY, double scaleX, double scaleY, bool normalized = true)
    {
        mean = new[] { meanX, meanY };
        scale = new[] { scaleX, scaleY };
        IsNormalized = normalized;
        logOffset = normalized ? 0 : 5;
    }

    public string Name => "gaussian";

    public int Features => 2;

    public bool IsNormalized { get; }

    public Box Bounds => new(mean[0] - 5 * scale[0], mean[0] + 5 * scale[0], mean[1] - 5 * scale[1], mean[1] + 5 * scale[1]);

    public double Density(double x, double y) =>
        Math.Exp(-0.5 * (Math.Pow((x - mean[0]) / scale[0], 2) + Math.Pow((y - mean[1]) / scale[1], 2))) / (2 * Math.PI * scale[0] * scale[1]);

    public Tensor LogDensity(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var m = torch.tensor(mean, dtype: x.dtype, device: x.device);
        var s = torch.tensor(scale, dtype: x.dtype, device: x.device);
        var standard = x.sub(m).div(s);
        var logDensity = standard.pow(2).sum(1).mul(-0.5).sub(Math.Log(2 * Math.PI * scale[0] * scale[1])).add(logOffset);
        return scope.MoveToOuter(logDensity);
    }

    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var noise = torch.randn(new[] { count, 2L }, dtype: dtype ?? ScalarType.Float32, device: device, generator: generator);
        var m = torch.tensor(mean, dtype: noise.dtype, device: noise.device);
        var s = torch.tensor(scale, dtype: noise.dtype, device: noise.device);
        return scope.MoveToOuter(noise.mul(s).add(m));
    }
}
