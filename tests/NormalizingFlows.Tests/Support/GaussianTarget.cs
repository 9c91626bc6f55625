using System;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

/// <summary>A test target: independent normals with the given means and standard deviations.</summary>
public sealed class GaussianTarget(double[] mean, double[] std) : ITarget
{
    public string Name => "gaussian";
    public int Features => mean.Length;
    public bool IsNormalized => true;

    public Box Bounds => Features == 2
        ? new Box(mean[0] - 6 * std[0], mean[0] + 6 * std[0], mean[1] - 6 * std[1], mean[1] + 6 * std[1])
        : throw new NotSupportedException($"Bounds are defined for 2-D targets; this one has {Features} features.");

    public Tensor LogDensity(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var m = torch.tensor(mean, dtype: x.dtype);
        var s = torch.tensor(std, dtype: x.dtype);
        var z = x.sub(m).div(s);
        return scope.MoveToOuter(z.square().mul(-0.5).sub(s.log()).sub(0.5 * Math.Log(2 * Math.PI)).sum(1));
    }

    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var type = dtype ?? ScalarType.Float32;
        var m = torch.tensor(mean, dtype: type, device: device);
        var s = torch.tensor(std, dtype: type, device: device);
        return scope.MoveToOuter(torch.randn(new long[] { count, Features }, dtype: type, device: device, generator: generator).mul(s).add(m));
    }

    /// <summary>Exact KL(this || N(mu, sigma^2)) for independent normals.</summary>
    public double KlTo(double[] mu, double[] sigma)
    {
        double kl = 0;
        for (int i = 0; i < mean.Length; i++)
            kl += Math.Log(sigma[i] / std[i]) + (std[i] * std[i] + (mean[i] - mu[i]) * (mean[i] - mu[i])) / (2 * sigma[i] * sigma[i]) - 0.5;
        return kl;
    }
}
