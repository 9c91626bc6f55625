using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// A 2-D convolution (stride 1, zero padding that keeps the height and width) run with its channel counts padded to
/// whole blocks of <see cref="ChannelBlock"/> on the CPU in float32, where libtorch hands it to oneDNN.
/// </summary>
/// <remarks>
/// The oneDNN 3.7.1 inside TorchSharp 0.107's libtorch computes wrong float32 convolutions on the CPU when a channel
/// count is not a whole number of its SIMD blocks (16 channels with AVX-512, 8 with AVX2): measured on this project's
/// machines (AMD EPYC, AVX-512), the input gradient of a 64 -> 2 channel 3 x 3 convolution was off by 40-100 % of its
/// largest value, in part NaN from uninitialised memory (nondeterministically, so image flows skipped training steps
/// for non-finite gradients), and the forward pass of a 20 -> 64 convolution was off by 18 %. Whole blocks of 16
/// channels are right (agree with float64 to 1e-6), so the inputs and weights are padded with zero channels and the
/// extra output channels dropped: the result and every gradient are the unpadded convolution's, exactly. Float64 and
/// other devices do not reach oneDNN's direct kernels and run unchanged. The test
/// <c>ConvNetTests</c> holds float32 against float64 for channel counts on and off the block.
/// </remarks>
internal static class PaddedConvolution
{
    /// <summary>Channels per block of oneDNN's direct convolution kernels with AVX-512 (a multiple of AVX2's 8).</summary>
    public const int ChannelBlock = 16;

    /// <summary><paramref name="conv"/> applied to <paramref name="x"/> <c>[batch, inChannels, height, width]</c>, channels padded
    /// where oneDNN would otherwise compute it wrongly.</summary>
    public static Tensor Apply(Conv2d conv, Tensor x)
    {
        var weight = conv.weight!;
        long outChannels = weight.size(0), inChannels = weight.size(1);
        if (!NeedsPadding(x, inChannels, outChannels)) return conv.call(x);
        long inPad = RoundUp(inChannels) - inChannels, outPad = RoundUp(outChannels) - outChannels;
        var paddedWeight = nn.functional.pad(weight, new long[] { 0, 0, 0, 0, 0, inPad, 0, outPad });
        var paddedBias = conv.bias is null ? null : nn.functional.pad(conv.bias, new long[] { 0, outPad });
        var paddedInput = inPad == 0 ? x : nn.functional.pad(x, new long[] { 0, 0, 0, 0, 0, inPad });
        long kernelHeight = weight.size(2), kernelWidth = weight.size(3);
        var y = nn.functional.conv2d(paddedInput, paddedWeight, paddedBias, padding: new[] { kernelHeight / 2, kernelWidth / 2 });
        return outPad == 0 ? y : y.narrow(1, 0, outChannels);
    }

    private static bool NeedsPadding(Tensor x, long inChannels, long outChannels) =>
        x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32
        && (inChannels % ChannelBlock != 0 || outChannels % ChannelBlock != 0);

    private static long RoundUp(long channels) => (channels + ChannelBlock - 1) / ChannelBlock * ChannelBlock;
}
