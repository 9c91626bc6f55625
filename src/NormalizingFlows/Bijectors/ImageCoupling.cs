using System;
using System.Linq;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Internal;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// A coupling layer on images <c>[C, H, W]</c>: the values an <see cref="ImageMask"/> marks (half the channels, or one colour of a
/// checkerboard) are transformed elementwise by parameters that a convolutional <see cref="ImageConditioner"/> computes from the
/// other values (and the context); the other values pass through.
/// Forward: <c>y_A = x_A</c>, <c>y_B = t(x_B; c(x_A, context))</c>; log-det: the sum of <c>t</c>'s log-derivatives over <c>B</c>.
/// Inverse: <c>x_A = y_A</c>, <c>x_B = t^-1(y_B; c(y_A, context))</c>; log-det: minus the same sum at the matching point.
/// Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP" (2017), section 3.4; with channel masks after a
/// squeeze and <see cref="ScaleMap.Sigmoid"/>, Glow's affine coupling (Kingma and Dhariwal, 2018).
/// </summary>
/// <remarks>
/// <para>Design: a separate class rather than <see cref="Coupling"/> with an image mask, because the conditioner contract
/// differs. <see cref="Coupling"/> hands a flat <c>[batch, passed]</c> vector to a flat <see cref="Conditioner"/>; a convolution
/// needs the image layout. Here the conditioner sees an image: for a channel mask, the passed channels
/// <c>[batch, floor(C/2), H, W]</c>; for a checkerboard, the whole image with the transformed pixels set to zero
/// <c>[batch, C, H, W]</c> (as RealNVP's <c>b * x</c>). It returns <c>ParametersPerFeature</c> channels per transformed channel,
/// <c>[batch, transformedChannels * P, H, W]</c>, channel <c>c * P + p</c> holding parameter <c>p</c> of channel <c>c</c>; for a
/// checkerboard only the parameters at the transformed pixels are used. The elementwise transform is the same plug-in as in
/// <see cref="Coupling"/>: any <see cref="IElementwiseTransform"/>.</para>
/// <para>A transform that is an <see cref="nn.Module"/> is registered as the submodule <c>transform</c>, as in <see cref="Coupling"/>;
/// a <see cref="TanhBoundedAffineTransform"/> must be made for the number of transformed values (<see cref="TransformedCount"/>).</para>
/// </remarks>
public sealed partial class ImageCoupling : Bijector
{
    private readonly ImageConditioner conditioner;
    private readonly IElementwiseTransform transform;
    private readonly Tensor transformedIndices;
    private readonly ImageMask mask;
    private readonly long channels;
    private readonly long pixels;
    private readonly long transformedChannels;
    private readonly long passedChannels;
    private readonly long transformedCount;

    /// <summary>Creates the layer.</summary>
    /// <param name="channels">Image channels <c>C</c> (at least 2 for a channel mask).</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width (height x width at least 2 for a checkerboard).</param>
    /// <param name="mask">Which values the layer transforms.</param>
    /// <param name="conditioner">Maps what the layer conditions on to the transform's parameters: <c>InChannels</c> =
    /// <c>floor(C / 2)</c> for a channel mask or <c>C</c> for a checkerboard; <c>OutChannels</c> = transformed channels
    /// (<c>ceil(C / 2)</c> or <c>C</c>) x <c>ParametersPerFeature</c>.</param>
    /// <param name="transform">The elementwise transform; one that is an <see cref="nn.Module"/> becomes a submodule of this layer.</param>
    /// <exception cref="ArgumentException">A size is out of range for the mask, or the conditioner's or transform's widths do not fit.</exception>
    public ImageCoupling(int channels, int height, int width, ImageMask mask, ImageConditioner conditioner, IElementwiseTransform transform)
        : base(nameof(ImageCoupling), CheckShape(channels, height, width, mask), (conditioner ?? throw new ArgumentNullException(nameof(conditioner))).ContextFeatures)
    {
        ArgumentNullException.ThrowIfNull(transform);
        this.mask = mask;
        this.channels = channels;
        pixels = (long)height * width;
        bool checkerboard = IsCheckerboard(mask);
        transformedChannels = checkerboard ? channels : channels - channels / 2;
        passedChannels = checkerboard ? channels : channels / 2;
        long[] transformed;
        if (checkerboard)
        {
            int parity = mask == ImageMask.CheckerboardEven ? 0 : 1;
            transformed = Enumerable.Range(0, channels * height * width)
                .Where(k => { int p = k % (height * width); return (p / width + p % width) % 2 == parity; })
                .Select(k => (long)k).ToArray();
        }
        else
        {
            long first = mask == ImageMask.FirstChannels ? 0 : passedChannels;
            transformed = Enumerable.Range(0, (int)(transformedChannels * pixels)).Select(k => first * pixels + k).ToArray();
        }
        transformedCount = transformed.Length;
        if (conditioner.InChannels != passedChannels)
            throw new ArgumentException(
                $"With mask {mask} on {channels} channels the conditioner must take {passedChannels} input channels; it takes {conditioner.InChannels}.", nameof(conditioner));
        long expected = transformedChannels * transform.ParametersPerFeature;
        if (conditioner.OutChannels != expected)
            throw new ArgumentException(
                $"With mask {mask} the layer transforms {transformedChannels} channels with {transform.ParametersPerFeature} parameters each, so the conditioner " +
                $"must give {expected} output channels; it gives {conditioner.OutChannels}.", nameof(conditioner));
        if (transform is TanhBoundedAffineTransform bounded && bounded.Features != transformedCount)
            throw new ArgumentException(
                $"The mask transforms {transformedCount} values but the transform was made for {bounded.Features}; they must match.", nameof(transform));
        this.conditioner = conditioner;
        this.transform = transform;
        transformedIndices = torch.tensor(transformed, dtype: ScalarType.Int64).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Creates a coupling whose conditioner is a <see cref="ConvNet"/> (last convolution zero, so the layer starts as the
    /// identity for transforms whose zero parameters are the identity).</summary>
    /// <param name="channels">Image channels.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="mask">Which values the layer transforms.</param>
    /// <param name="hiddenChannels">Hidden channels of the network.</param>
    /// <param name="residualBlocks">Residual blocks of the network.</param>
    /// <param name="contextFeatures">Context width; 0 for none.</param>
    /// <param name="transform">The elementwise transform; null for <see cref="AffineTransform.Instance"/>.</param>
    /// <param name="activation">The network's nonlinearity.</param>
    /// <param name="generator">Generator for the initial weights.</param>
    public static ImageCoupling WithConvNet(int channels, int height, int width, ImageMask mask, int hiddenChannels = 64, int residualBlocks = 2,
        int contextFeatures = 0, IElementwiseTransform? transform = null, Activation activation = Activation.Relu, Generator? generator = null)
    {
        CheckShape(channels, height, width, mask);
        transform ??= AffineTransform.Instance;
        bool checkerboard = IsCheckerboard(mask);
        int passed = checkerboard ? channels : channels / 2;
        int moved = checkerboard ? channels : channels - channels / 2;
        var net = new ConvNet(passed, moved * transform.ParametersPerFeature, hiddenChannels, residualBlocks, contextFeatures, activation, true, generator);
        return new ImageCoupling(channels, height, width, mask, net, transform);
    }

    /// <summary>Which values the layer transforms.</summary>
    public ImageMask Mask => mask;

    /// <summary>Number of values of one image the layer transforms.</summary>
    public long TransformedCount => transformedCount;

    /// <summary>The conditioner network.</summary>
    public ImageConditioner Conditioner => conditioner;

    /// <summary>The elementwise transform.</summary>
    public IElementwiseTransform Transform => transform;

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) => Apply(x, context, inverse: false);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) => Apply(y, context, inverse: true);

    private (Tensor Output, Tensor LogAbsDet) Apply(Tensor x, Tensor? context, bool inverse)
    {
        long batch = x.size(0);
        int p = transform.ParametersPerFeature;
        var flat = x.reshape(batch, -1);
        Tensor passed, moving;
        if (IsCheckerboard(mask))
        {
            passed = flat.index_fill(1, transformedIndices, Scalars.Of(0.0)).view(x.shape);
            moving = flat.index_select(1, transformedIndices);
        }
        else
        {
            long passStart = mask == ImageMask.FirstChannels ? transformedChannels : 0;
            long moveStart = mask == ImageMask.FirstChannels ? 0 : passedChannels;
            passed = x.narrow(1, passStart, passedChannels);
            moving = flat.narrow(1, moveStart * pixels, transformedCount);
        }
        // [batch, channels * P, H, W] -> [batch, channels, H, W, P] -> [batch, channels * H * W, P]
        var raw = conditioner.call(passed, context);
        var parameters = raw.view(batch, transformedChannels, p, x.size(2), x.size(3)).permute(0, 1, 3, 4, 2).reshape(batch, transformedChannels * pixels, p);
        if (IsCheckerboard(mask)) parameters = parameters.index_select(1, transformedIndices);
        var (moved, logAbsDet) = inverse ? transform.Inverse(moving, parameters) : transform.Forward(moving, parameters);
        Tensor output;
        if (IsCheckerboard(mask))
        {
            output = flat.index_copy(1, transformedIndices, moved).view(x.shape);
        }
        else
        {
            var movedImage = moved.view(batch, transformedChannels, x.size(2), x.size(3));
            output = mask == ImageMask.FirstChannels ? torch.cat(new[] { movedImage, passed }, 1) : torch.cat(new[] { passed, movedImage }, 1);
        }
        return (output, logAbsDet.sum(1));
    }

    private static bool IsCheckerboard(ImageMask mask) => mask is ImageMask.CheckerboardEven or ImageMask.CheckerboardOdd;

    private static long[] CheckShape(int channels, int height, int width, ImageMask mask)
    {
        if (!Enum.IsDefined(mask)) throw new ArgumentOutOfRangeException(nameof(mask), mask, $"Unknown mask {mask}.");
        Guard.Features(channels, nameof(channels));
        Guard.Features(height, nameof(height));
        Guard.Features(width, nameof(width));
        if (IsCheckerboard(mask) && (long)height * width < 2)
            throw new ArgumentException(
                $"A checkerboard mask needs at least 2 pixels; got an image of shape [{channels}, {height}, {width}].", nameof(mask));
        if (!IsCheckerboard(mask) && channels < 2)
            throw new ArgumentException(
                $"A channel mask needs at least 2 channels (squeeze a 1-channel image first, or use a checkerboard); got an image of shape [{channels}, {height}, {width}].",
                nameof(mask));
        return new long[] { channels, height, width };
    }
}
