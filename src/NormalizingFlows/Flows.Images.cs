using System;
using System.Collections.Generic;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using NormalizingFlows.Internal;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

public static partial class Flows
{
    /// <summary>
    /// RealNVP's multi-scale image flow (Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", 2017, section 3.6)
    /// on images <c>[channels, height, width]</c> with values in [0, 1] (dequantised pixels), on a standard normal base of the same
    /// shape. From the data side: a <see cref="LogitPreprocessing"/> (optional), then at each scale but the last
    /// <paramref name="stepsPerScale"/> checkerboard couplings (parities alternating), a <see cref="Squeeze"/> to
    /// <c>[4C, H/2, W/2]</c>, <paramref name="stepsPerScale"/> channel couplings (halves alternating), and a <see cref="FactorOut"/>
    /// that sends half the channels to the base and continues with the other half at the next scale; the last scale has
    /// <paramref name="stepsPerScale"/> checkerboard couplings (channel couplings where only one pixel is left).
    /// </summary>
    /// <remarks>
    /// <para>Every coupling is an <see cref="ImageCoupling"/> with a residual <see cref="Conditioners.ConvNet"/> (last convolution zero), so
    /// the flow starts as the identity after the logit. Checkerboard couplings come first because a channel mask needs at least two
    /// channels: a grey image has one until it is squeezed. Example: digits (1 x 8 x 8) with <paramref name="scales"/> = 3 run at
    /// 8 x 8 (1 channel), 4 x 4 (2 channels kept of 4) and 2 x 2 (4 channels kept of 8).</para>
    /// <para>The factored-out channels stay in place (see <see cref="FactorOut"/>), so the whole model is one bijector on
    /// <c>[C, H, W]</c>; nested <see cref="Squeeze"/> layers and their inverses do the reshaping inside.</para>
    /// </remarks>
    /// <param name="channels">Image channels (1 for grey, 3 for colour).</param>
    /// <param name="height">Image height; divisible by <c>2^(scales - 1)</c>.</param>
    /// <param name="width">Image width; divisible by <c>2^(scales - 1)</c>.</param>
    /// <param name="scales">Number of resolutions the couplings run at; at least 1.</param>
    /// <param name="stepsPerScale">Couplings of each kind per scale (RealNVP uses 3).</param>
    /// <param name="hiddenChannels">Hidden channels of every conditioner.</param>
    /// <param name="seed">Seed for the initial weights.</param>
    /// <param name="residualBlocks">Residual blocks of every conditioner.</param>
    /// <param name="logitPreprocessing">Put a <see cref="LogitPreprocessing"/> at the data end (for data in [0, 1]).</param>
    /// <param name="alpha">The <see cref="LogitPreprocessing.Alpha"/> of that layer.</param>
    /// <param name="transform">The elementwise transform of every coupling, which must hold no trainable state (it is shared);
    /// null for an affine map with a soft-clamped log-scale (<see cref="ScaleMap.SoftClamp"/>, like RealNVP's tanh-bounded scale).</param>
    /// <param name="contextFeatures">Width of a context every conditioner sees; 0 for an unconditional flow.</param>
    /// <exception cref="ArgumentException">A size or count is out of range, or the image cannot be halved <c>scales - 1</c> times.</exception>
    public static Flow MultiscaleRealNvp(int channels = 1, int height = 8, int width = 8, int scales = 3, int stepsPerScale = 3, int hiddenChannels = 32,
        long seed = 0, int residualBlocks = 1, bool logitPreprocessing = true, double alpha = LogitPreprocessing.DefaultAlpha,
        IElementwiseTransform? transform = null, int contextFeatures = 0)
    {
        CheckImagePreset(channels, height, width, scales, scales - 1, stepsPerScale);
        if (transform is nn.Module)
            throw new ArgumentException("The transform is shared by every coupling, so it must hold no trainable state; got a module.", nameof(transform));
        transform ??= new AffineTransform(ScaleMap.SoftClamp);
        using var generator = new Generator((ulong)seed);
        var settings = new ImagePresetSettings(stepsPerScale, hiddenChannels, residualBlocks, contextFeatures, transform, generator);
        var layers = new List<Bijector> { RealNvpScale(channels, height, width, scales, settings) };
        if (logitPreprocessing) layers.Add(new LogitPreprocessing(channels, height, width, alpha));
        return new Flow(new StandardNormal(channels, height, width), new Chain(layers));
    }

    /// <summary>
    /// Glow's multi-scale image flow (Kingma and Dhariwal, "Glow: Generative flow with invertible 1x1 convolutions", 2018) on images
    /// <c>[channels, height, width]</c> with values in [0, 1], on a standard normal base of the same shape. From the data side: a
    /// <see cref="LogitPreprocessing"/> (optional), then at each scale a <see cref="Squeeze"/> and <paramref name="stepsPerScale"/> steps
    /// of [<see cref="ActNorm"/> (initialised from the first training batch), <see cref="InvertibleConv1x1"/>, affine
    /// <see cref="ImageCoupling"/> on half the channels with Glow's sigmoid scale (<see cref="ScaleMap.Sigmoid"/>)], and at every
    /// scale but the last a <see cref="FactorOut"/> of half the channels. Named apart from the 1-D <see cref="Glow"/>.
    /// </summary>
    /// <remarks>Every conditioner is a residual <see cref="Conditioners.ConvNet"/> with a zero last convolution, so a fresh flow is
    /// ActNorm, rotations and couplings of scale <c>sigmoid(2)</c>: near the identity, and standardising once initialised. Example:
    /// digits (1 x 8 x 8) with <paramref name="scales"/> = 2 run at 4 x 4 (4 channels) and 2 x 2 (8 channels).</remarks>
    /// <param name="channels">Image channels.</param>
    /// <param name="height">Image height; divisible by <c>2^scales</c>.</param>
    /// <param name="width">Image width; divisible by <c>2^scales</c>.</param>
    /// <param name="scales">Number of levels (each starts with a squeeze); at least 1.</param>
    /// <param name="stepsPerScale">Steps of flow per level (Glow's K).</param>
    /// <param name="hiddenChannels">Hidden channels of every conditioner.</param>
    /// <param name="seed">Seed for the initial weights and rotations.</param>
    /// <param name="residualBlocks">Residual blocks of every conditioner.</param>
    /// <param name="logitPreprocessing">Put a <see cref="LogitPreprocessing"/> at the data end (for data in [0, 1]).</param>
    /// <param name="alpha">The <see cref="LogitPreprocessing.Alpha"/> of that layer.</param>
    /// <param name="luDecomposed">LU-parametrised 1x1 convolutions (Glow's cheap variant) rather than full matrices.</param>
    /// <param name="contextFeatures">Width of a context every conditioner sees; 0 for an unconditional flow.</param>
    /// <exception cref="ArgumentException">A size or count is out of range, or the image cannot be halved <c>scales</c> times.</exception>
    public static Flow GlowImage(int channels = 1, int height = 8, int width = 8, int scales = 2, int stepsPerScale = 4, int hiddenChannels = 32,
        long seed = 0, int residualBlocks = 1, bool logitPreprocessing = true, double alpha = LogitPreprocessing.DefaultAlpha,
        bool luDecomposed = true, int contextFeatures = 0)
    {
        CheckImagePreset(channels, height, width, scales, scales, stepsPerScale);
        using var generator = new Generator((ulong)seed);
        var settings = new ImagePresetSettings(stepsPerScale, hiddenChannels, residualBlocks, contextFeatures, new AffineTransform(ScaleMap.Sigmoid), generator);
        var layers = new List<Bijector> { GlowLevel(channels, height, width, scales, luDecomposed, settings) };
        if (logitPreprocessing) layers.Add(new LogitPreprocessing(channels, height, width, alpha));
        return new Flow(new StandardNormal(channels, height, width), new Chain(layers));
    }

    private sealed record ImagePresetSettings(int Steps, int HiddenChannels, int ResidualBlocks, int ContextFeatures,
        IElementwiseTransform Transform, Generator Generator);

    private static ImageCoupling ImageStep(int c, int h, int w, ImageMask mask, ImagePresetSettings s) =>
        ImageCoupling.WithConvNet(c, h, w, mask, s.HiddenChannels, s.ResidualBlocks, s.ContextFeatures, s.Transform, generator: s.Generator);

    /// <summary>One RealNVP scale on <c>[c, h, w]</c> and everything coarser, listed base to data.</summary>
    private static Bijector RealNvpScale(int c, int h, int w, int scalesLeft, ImagePresetSettings s)
    {
        // Built in the data-to-base order of the paper, then reversed: the chain lists layers base to data.
        var dataToBase = new List<Bijector>();
        bool spatial = (long)h * w >= 2;
        for (int i = 0; i < s.Steps; i++)
        {
            var mask = spatial
                ? (i % 2 == 0 ? ImageMask.CheckerboardEven : ImageMask.CheckerboardOdd)
                : (i % 2 == 0 ? ImageMask.LastChannels : ImageMask.FirstChannels);
            dataToBase.Add(ImageStep(c, h, w, mask, s));
        }
        if (scalesLeft > 1)
        {
            int c4 = 4 * c, h2 = h / 2, w2 = w / 2;
            dataToBase.Add(new Squeeze(c, h, w));
            for (int i = 0; i < s.Steps; i++)
                dataToBase.Add(ImageStep(c4, h2, w2, i % 2 == 0 ? ImageMask.LastChannels : ImageMask.FirstChannels, s));
            dataToBase.Add(new FactorOut(RealNvpScale(2 * c, h2, w2, scalesLeft - 1, s), c4));
            // Back to [c, h, w] at the base end: a fixed rearrangement of the latent values.
            dataToBase.Add(new Invert(new Squeeze(c, h, w)));
        }
        dataToBase.Reverse();
        return new Chain(dataToBase);
    }

    /// <summary>One Glow level on <c>[c, h, w]</c> and everything coarser, listed base to data.</summary>
    private static Bijector GlowLevel(int c, int h, int w, int scalesLeft, bool luDecomposed, ImagePresetSettings s)
    {
        int c4 = 4 * c, h2 = h / 2, w2 = w / 2;
        var dataToBase = new List<Bijector> { new Squeeze(c, h, w) };
        for (int i = 0; i < s.Steps; i++)
        {
            dataToBase.Add(new ActNorm(c4, h2, w2));
            dataToBase.Add(new InvertibleConv1x1(c4, h2, w2, luDecomposed, s.Generator));
            dataToBase.Add(ImageStep(c4, h2, w2, i % 2 == 0 ? ImageMask.LastChannels : ImageMask.FirstChannels, s));
        }
        if (scalesLeft > 1) dataToBase.Add(new FactorOut(GlowLevel(2 * c, h2, w2, scalesLeft - 1, luDecomposed, s), c4));
        dataToBase.Add(new Invert(new Squeeze(c, h, w)));
        dataToBase.Reverse();
        return new Chain(dataToBase);
    }

    private static void CheckImagePreset(int channels, int height, int width, int scales, int halvings, int steps)
    {
        Guard.Features(channels, nameof(channels));
        Guard.Features(height, nameof(height));
        Guard.Features(width, nameof(width));
        Guard.Features(scales, nameof(scales));
        Guard.Features(steps, nameof(steps));
        if (halvings >= 30 || height % (1 << halvings) != 0 || width % (1 << halvings) != 0)
            throw new ArgumentException(
                $"With {scales} scales the image is halved {halvings} times, so its height and width must be multiples of {(halvings >= 30 ? "2^" + halvings : (1 << halvings).ToString(System.Globalization.CultureInfo.InvariantCulture))}; " +
                $"got an image of shape [{channels}, {height}, {width}].", nameof(scales));
        if (halvings == 0 && (long)height * width < 2)
            throw new ArgumentException($"A single scale on one pixel leaves nothing to couple; got an image of shape [{channels}, {height}, {width}].", nameof(height));
    }
}
