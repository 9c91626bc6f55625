using System;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

/// <summary>A test target backed by a fixed, unconditional distribution: its exact log-density and its sampler.</summary>
public sealed class DistributionTarget(string name, Distribution distribution) : ITarget
{
    public string Name => name;
    public int Features => (int)distribution.EventSize;
    public bool IsNormalized => true;

    /// <summary>Not needed by the tests that use this target.</summary>
    public Box Bounds => throw new NotSupportedException($"{name} has no bounding box.");

    public Tensor LogDensity(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return scope.MoveToOuter(distribution.LogProb(x.to(ScalarType.Float64)).to(x.dtype));
    }

    public Tensor Sample(long count, Generator? generator = null, ScalarType? dtype = null, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var x = distribution.Sample(count, generator: generator);
        return scope.MoveToOuter(x.to(dtype ?? ScalarType.Float32, device ?? torch.CPU));
    }
}
