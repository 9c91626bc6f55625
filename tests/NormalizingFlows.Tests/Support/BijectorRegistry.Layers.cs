using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

/// <summary>Normalising layers, the invertible 1x1 convolution, planar and radial layers, residual blocks.</summary>
public static partial class BijectorRegistry
{
    private static readonly int[] ResidualHidden = { 16, 16 };

    private static readonly BijectorCase[] LayersCases =
    {
        new("batch-norm", g => WarmedBatchNorm(4, g), 4),
        new("invertible-conv1x1-lu", g => new InvertibleConv1x1(3, 2, 2, luDecomposed: true, generator: g), 12) { EventShape = new long[] { 3, 2, 2 } },
        new("invertible-conv1x1-full", g => new InvertibleConv1x1(3, 2, 2, luDecomposed: false, generator: g), 12) { EventShape = new long[] { 3, 2, 2 } },
        new("invertible-conv1x1-one-pixel", g => new InvertibleConv1x1(4, 1, 1, generator: g), 4) { EventShape = new long[] { 4, 1, 1 } },
        new("planar", g => new Planar(3, g), 3) { HasInverse = false },
        new("radial", g => new Radial(3, g), 3) { HasInverse = false },
        new("planar-chain", g => new Chain(new Planar(2, g), new Radial(2, g), new Planar(2, g)), 2) { HasInverse = false },
        // Exact log-dets (the power series is stochastic); the inverse is a fixed-point iteration to 1e-12 plus one Newton step.
        new("residual-block-exact", g => new ResidualBlock(3, ResidualHidden, 0.9, Activation.Elu, ResidualLogDet.Exact, g) { InverseTolerance = 1e-12 }, 3),
        new("residual-block-exact-lipswish", g => new ResidualBlock(2, new[] { 8 }, 0.97, Activation.Silu, ResidualLogDet.Exact, g) { InverseTolerance = 1e-12 }, 2),
        new("residual-block-exact-tanh-inverted", g => new Invert(new ResidualBlock(3, ResidualHidden, 0.8, Activation.Tanh, ResidualLogDet.Exact, g) { InverseTolerance = 1e-12 }), 3),
    };

    /// <summary>A batch norm whose running statistics have been moved away from (0, 1) by training-mode passes over shifted, scaled data.</summary>
    private static BatchNorm WarmedBatchNorm(int features, Generator generator)
    {
        var layer = new BatchNorm(features, momentum: 0.2);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var mean = torch.linspace(-2, 2, features);
        var std = torch.linspace(0.5, 3, features);
        layer.train();
        for (int i = 0; i < 20; i++)
            layer.Inverse(torch.randn(new long[] { 64, features }, generator: generator).mul(std).add(mean));
        return layer;
    }
}
