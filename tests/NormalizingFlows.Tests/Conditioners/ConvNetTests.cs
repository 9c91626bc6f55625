using System.Linq;
using NormalizingFlows.Conditioners;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Conditioners;

/// <summary>ConvNet in float32 on the CPU: its output and every gradient agree with the same network in float64. libtorch's
/// oneDNN gets float32 convolutions wrong where a channel count is not a whole block of 16 (an input gradient off by
/// 40-100 %, partly NaN; a forward pass off by 18 %); these cases fail without the channel padding of
/// <c>Internal/PaddedConvolution</c>.</summary>
public sealed class ConvNetTests
{
    [Theory]
    [InlineData(1, 2, 64, 8)]   // the digits flow's first coupling: 64 -> 2 output channels
    [InlineData(2, 4, 64, 4)]
    [InlineData(6, 12, 64, 2)]
    [InlineData(3, 6, 20, 4)]   // hidden channels off the block: the forward pass of 20 -> 20 goes wrong too
    [InlineData(16, 32, 32, 4)] // every count on the block: no padding
    public void Should_Give_The_Float64_Values_And_Gradients_In_Float32(int inChannels, int outChannels, int hidden, int size)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(11);
        using var net32 = new ConvNet(inChannels, outChannels, hidden, residualBlocks: 1, zeroInitialOutput: false, generator: generator);
        using var net64 = new ConvNet(inChannels, outChannels, hidden, residualBlocks: 1, zeroInitialOutput: false);
        net64.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var (target, source) in net64.parameters().Zip(net32.parameters()))
                target.copy_(source);
        var x = torch.randn(new long[] { 128, inChannels, size, size }, generator: generator);
        var weights = torch.randn(new long[] { 128, outChannels, size, size }, generator: generator);

        var (y32, grads32) = Run(net32, x, weights);
        var (y64, grads64) = Run(net64, x.to(ScalarType.Float64), weights.to(ScalarType.Float64));

        Assert.True(RelativeError(y32, y64) < 1e-5, $"output off by {RelativeError(y32, y64):g3} of its largest value");
        for (int i = 0; i < grads64.Length; i++)
        {
            double error = RelativeError(grads32[i], grads64[i]);
            Assert.True(error < 1e-4, $"gradient {i} ({(i == 0 ? "input" : "parameter " + (i - 1))}) off by {error:g3} of its largest value");
        }
    }

    private static (Tensor Output, Tensor[] Gradients) Run(ConvNet net, Tensor x, Tensor weights)
    {
        var input = x.detach().clone().requires_grad_();
        var output = net.forward(input, null);
        var wrt = new[] { input }.Concat(net.parameters()).ToArray();
        var gradients = torch.autograd.grad(new[] { output.mul(weights).sum() }, wrt);
        return (output.detach().to(ScalarType.Float64), gradients.Select(g => g.to(ScalarType.Float64)).ToArray());
    }

    private static double RelativeError(Tensor actual, Tensor expected) =>
        actual.sub(expected).abs().max().ToDouble() / expected.abs().max().ToDouble();
}
