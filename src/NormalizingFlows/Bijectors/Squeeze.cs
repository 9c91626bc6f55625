using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// The squeeze of multi-scale image flows (space-to-depth): every 2 x 2 block of pixels of a data-side image
/// <c>[C, H, W]</c> becomes one pixel with <c>4C</c> channels on the base side, <c>[4C, H/2, W/2]</c>. A permutation of the
/// values, so volume-preserving.
/// Forward (base to data, depth-to-space): <c>y[c, 2i + a, 2j + b] = x[4c + 2a + b, i, j]</c>; log-det: <c>0</c>.
/// Inverse (data to base, space-to-depth): <c>x[4c + 2a + b, i, j] = y[c, 2i + a, 2j + b]</c>; log-det: <c>0</c>.
/// Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP" (2017), section 3.6; Kingma and Dhariwal, "Glow" (2018).
/// </summary>
/// <remarks>
/// <para>Direction: the flow squeezes on its way from the data to the base (<see cref="Bijector.Inverse"/>), as in the papers'
/// encoders, so that a <see cref="Chain"/> listed base to data reads <c>[..., layers on [4C, H/2, W/2], new Squeeze(C, H, W),
/// layers on [C, H, W], ...]</c>: this layer sits between the coarse layers (base side) and the fine ones (data side). The opposite
/// map is <c>new Invert(new Squeeze(C, H, W))</c>.</para>
/// <para>Shapes: <see cref="Bijector.EventShape"/> (base side) is <c>[4C, H/2, W/2]</c> and <see cref="Bijector.OutputShape"/> (data
/// side) is <c>[C, H, W]</c>. Channel <c>4c + 2a + b</c> of the squeezed image holds the pixels of channel <c>c</c> at row parity
/// <c>a</c> and column parity <c>b</c>: for a 1 x 2 x 2 image <c>[[p, q], [r, s]]</c> the squeezed channels are <c>p, q, r, s</c>.</para>
/// </remarks>
public sealed partial class Squeeze : Bijector
{
    /// <summary>Creates the squeeze of data-side images <c>[channels, height, width]</c>.</summary>
    /// <param name="channels">Channels <c>C</c> of the data-side image; at least 1.</param>
    /// <param name="height">Height <c>H</c> of the data-side image; even.</param>
    /// <param name="width">Width <c>W</c> of the data-side image; even.</param>
    /// <exception cref="ArgumentException">A size is not positive, or the height or width is odd (the message names the shape).</exception>
    public Squeeze(int channels, int height, int width)
        : base(nameof(Squeeze), Squeezed(channels, height, width), new long[] { channels, height, width })
    {
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Channels of the data-side image.</summary>
    public int Channels { get; }

    /// <summary>Height of the data-side image.</summary>
    public int Height { get; }

    /// <summary>Width of the data-side image.</summary>
    public int Width { get; }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        long batch = x.size(0);
        var y = x.reshape(batch, Channels, 2, 2, Height / 2, Width / 2)
            .permute(0, 1, 4, 2, 5, 3)
            .reshape(batch, Channels, Height, Width);
        return (y, torch.zeros(batch, dtype: x.dtype, device: x.device));
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        long batch = y.size(0);
        var x = y.reshape(batch, Channels, Height / 2, 2, Width / 2, 2)
            .permute(0, 1, 3, 5, 2, 4)
            .reshape(batch, 4L * Channels, Height / 2, Width / 2);
        return (x, torch.zeros(batch, dtype: y.dtype, device: y.device));
    }

    private static long[] Squeezed(int channels, int height, int width)
    {
        Guard.Features(channels, nameof(channels));
        Guard.Features(height, nameof(height));
        Guard.Features(width, nameof(width));
        if (height % 2 != 0)
            throw new ArgumentException(
                $"A squeeze folds 2 x 2 blocks of pixels, so the height must be even; got an image of shape [{channels}, {height}, {width}].", nameof(height));
        if (width % 2 != 0)
            throw new ArgumentException(
                $"A squeeze folds 2 x 2 blocks of pixels, so the width must be even; got an image of shape [{channels}, {height}, {width}].", nameof(width));
        return new[] { 4L * channels, height / 2, width / 2 };
    }
}
