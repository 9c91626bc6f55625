using System;
using System.Linq;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>The flat-buffer optimizer takes exactly the steps of TorchSharp's own Adam and AdamW.</summary>
public sealed class FlatAdamTests
{
    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(false, 1e-2)]
    [InlineData(true, 1e-2)]
    public void Should_Match_Torch_Adam_When_Stepping(bool decoupled, double weightDecay)
    {
        using var scope = torch.NewDisposeScope();
        using var reference = Flows.LuCoupling(2, 3, new[] { 8 }, seed: 4);
        using var flat = Flows.LuCoupling(2, 3, new[] { 8 }, seed: 4);
        reference.to(ScalarType.Float64);
        flat.to(ScalarType.Float64);
        using (torch.no_grad())
        {
            using var g = new Generator(9);
            foreach (var (a, b) in reference.parameters().Zip(flat.parameters()))
            {
                a.add_(torch.randn(a.shape, dtype: a.dtype, generator: g).mul(0.1));
                b.copy_(a);
            }
        }
        var referenceParameters = reference.parameters().ToArray();
        using var torchOptimizer = decoupled
            ? (optim.Optimizer)torch.optim.AdamW(referenceParameters, 1e-2, weight_decay: weightDecay)
            : torch.optim.Adam(referenceParameters, 1e-2, weight_decay: weightDecay);
        using var flatOptimizer = new FlatAdam(flat.parameters().ToArray(), 1e-2, weightDecay, decoupled);
        var target = new Banana();
        using var data = new Generator(2);
        for (int step = 0; step < 5; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            var x = target.Sample(64, data, ScalarType.Float64);
            torchOptimizer.zero_grad();
            reference.LogProb(x).mean().neg().backward();
            torchOptimizer.step();
            flatOptimizer.ZeroGrad();
            flat.LogProb(x).mean().neg().backward();
            flatOptimizer.Step();
        }
        foreach (var ((name, a), b) in reference.named_parameters().Zip(flat.parameters()))
        {
            double difference = a.sub(b).abs().max().ToDouble();
            Assert.True(difference < 1e-12, $"{name} differs by {difference:E2} after 5 steps.");
        }
        Assert.True(flat.parameters().First().sub(referenceParameters[0]).abs().max().ToDouble() < 1e-12);
    }
}
