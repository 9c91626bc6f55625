using System.Linq;
using NormalizingFlows.Conditioners;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Conditioners;

/// <summary>Mlp: its output and gradients equal those of the plain composition of linear layers and activations (the
/// one-input first layer and the in-place activations are only faster ways to compute it).</summary>
public sealed class MlpTests
{
    [Theory]
    [InlineData(1, Activation.Relu)]
    [InlineData(1, Activation.Tanh)]
    [InlineData(3, Activation.Relu)]
    [InlineData(1, Activation.Elu)]
    public void Should_Equal_The_Plain_Composition_In_Value_And_Gradient(int inFeatures, Activation activation)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(4);
        using var mlp = new Mlp(inFeatures, 2, new[] { 8, 8 }, activation: activation, zeroInitialOutput: false, generator: generator);
        var x = torch.randn(new long[] { 32, inFeatures }, dtype: ScalarType.Float64, generator: generator).requires_grad_();
        mlp.to(ScalarType.Float64);
        var output = mlp.forward(x, null);
        var layers = mlp.modules().OfType<Linear>().ToArray();
        Assert.Equal(3, layers.Length);
        Tensor h = x;
        for (int i = 0; i < layers.Length; i++)
        {
            h = h.matmul(layers[i].weight!.t()).add(layers[i].bias!);
            if (i < layers.Length - 1)
                h = activation switch { Activation.Relu => h.relu(), Activation.Tanh => h.tanh(), _ => nn.functional.elu(h, 1.0) };
        }
        Assert.True(output.sub(h).abs().max().ToDouble() < 1e-12, "Mlp output differs from the plain composition");
        using (torch.no_grad())
            Assert.True(mlp.forward(x, null).sub(h).abs().max().ToDouble() < 1e-12, "Mlp output without gradients differs from the plain composition");
        var weights = new Tensor[] { x, layers[0].weight!, layers[0].bias!, layers[1].weight! };
        var ours = torch.autograd.grad(new[] { output.pow(2).sum() }, weights);
        var plain = torch.autograd.grad(new[] { h.pow(2).sum() }, weights);
        for (int i = 0; i < weights.Length; i++)
            Assert.True(ours[i].sub(plain[i]).abs().max().ToDouble() < 1e-10, $"gradient {i} differs from the plain composition's");
    }
}
