using System;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Conditioners;

/// <summary>
/// A residual convolutional network for image couplings: a 3 x 3 convolution from the input (and the context, as extra
/// constant channels) to <see cref="HiddenChannels"/> channels, <see cref="ResidualBlocks"/> blocks
/// <c>h + conv(act(conv(act(h))))</c> of 3 x 3 convolutions, then <c>act</c> and a 3 x 3 convolution to the output. Zero padding
/// keeps the height and width. The last convolution starts at zero weights and bias by default, so that a fresh coupling
/// is exactly the identity (for transforms whose all-zero parameters are the identity).
/// </summary>
/// <remarks>The residual conditioner of RealNVP (Dinh et al., 2017) without its batch normalisation: a flow whose
/// conditioner depends on the batch would not be a bijection of each row. In float32 on the CPU the convolutions run with
/// their channels padded to whole blocks of 16, because libtorch's oneDNN computes them wrongly otherwise (see
/// <c>Internal/PaddedConvolution</c>); the results and gradients are those of the unpadded network.</remarks>
public sealed partial class ConvNet : ImageConditioner
{
    private readonly Conv2d input;
    private readonly ModuleList<Conv2d> blocks;
    private readonly Conv2d output;
    private readonly Activation activation;

    /// <summary>Creates the network.</summary>
    /// <param name="inChannels">Channels of the conditioning input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="hiddenChannels">Channels of every hidden layer; at least 1.</param>
    /// <param name="residualBlocks">Number of residual blocks (two convolutions each); 0 or more.</param>
    /// <param name="contextFeatures">Width of a context <c>[batch, contextFeatures]</c>, broadcast over the pixels and appended to
    /// the input as constant channels; 0 for none.</param>
    /// <param name="activation">The nonlinearity.</param>
    /// <param name="zeroInitialOutput">Start the last convolution at zero weights and bias.</param>
    /// <param name="generator">Generator for the initial weights; null uses TorchSharp's default generator.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range or the activation is unknown.</exception>
    public ConvNet(int inChannels, int outChannels, int hiddenChannels = 64, int residualBlocks = 2, int contextFeatures = 0,
        Activation activation = Activation.Relu, bool zeroInitialOutput = true, Generator? generator = null)
        : base(nameof(ConvNet), inChannels, outChannels, contextFeatures)
    {
        Guard.Features(hiddenChannels, nameof(hiddenChannels));
        if (residualBlocks < 0)
            throw new ArgumentOutOfRangeException(nameof(residualBlocks), residualBlocks, $"residualBlocks must be 0 or more; got {residualBlocks}.");
        Guard.Defined(activation, nameof(activation));
        this.activation = activation;
        HiddenChannels = hiddenChannels;
        ResidualBlocks = residualBlocks;
        using (torch.no_grad())
        {
            input = Convolution(inChannels + contextFeatures, hiddenChannels, zero: false, generator);
            var convolutions = new Conv2d[2 * residualBlocks];
            for (int i = 0; i < convolutions.Length; i++) convolutions[i] = Convolution(hiddenChannels, hiddenChannels, zero: false, generator);
            blocks = nn.ModuleList(convolutions);
            output = Convolution(hiddenChannels, outChannels, zeroInitialOutput, generator);
        }
        RegisterComponents();
    }

    /// <summary>Channels of every hidden layer.</summary>
    public int HiddenChannels { get; }

    /// <summary>Number of residual blocks.</summary>
    public int ResidualBlocks { get; }

    /// <summary>The nonlinearity.</summary>
    public Activation Activation => activation;

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor? context)
    {
        if (context is not null)
        {
            var planes = context.view(context.size(0), context.size(1), 1, 1).expand(context.size(0), context.size(1), x.size(2), x.size(3));
            x = torch.cat(new[] { x, planes.to(x.dtype) }, 1);
        }
        var h = PaddedConvolution.Apply(input, x);
        for (int i = 0; i < blocks.Count; i += 2)
        {
            var inner = PaddedConvolution.Apply(blocks[i], Activations.Apply(activation, h));
            h = h.add(PaddedConvolution.Apply(blocks[i + 1], Activations.Apply(activation, inner)), Scalars.One);
        }
        return PaddedConvolution.Apply(output, Activations.Apply(activation, h));
    }

    private static Conv2d Convolution(int inChannels, int outChannels, bool zero, Generator? generator)
    {
        var conv = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        if (zero)
        {
            conv.weight!.zero_();
            conv.bias!.zero_();
        }
        else
        {
            double bound = 1.0 / Math.Sqrt(9.0 * inChannels);
            conv.weight!.uniform_(-bound, bound, generator);
            conv.bias!.uniform_(-bound, bound, generator);
        }
        return conv;
    }
}
