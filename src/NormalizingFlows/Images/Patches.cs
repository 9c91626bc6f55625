using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Images;

/// <summary>
/// Small square patches cut at random from an image, and the preprocessing of the BSDS300 natural-image-patch benchmark
/// (Uria, Murray and Larochelle, "RNADE", 2013; used by MAF and neural spline flows): remove each patch's mean, then drop one
/// pixel.
/// </summary>
public static class Patches
{
    /// <summary>
    /// Cuts <paramref name="count"/> patches of <paramref name="size"/> x <paramref name="size"/> pixels from
    /// <paramref name="image"/> at independent, uniformly random positions (every position that keeps the patch inside the
    /// image is equally likely; patches may overlap).
    /// </summary>
    /// <param name="image">An image <c>[channels, height, width]</c> (e.g. from <see cref="ImageFile.Read(string, ImageColor)"/>); not changed.</param>
    /// <param name="size">Side of a patch in pixels; at least 1 and at most the image's height and width.</param>
    /// <param name="count">Number of patches; at least 1.</param>
    /// <param name="generator">The generator that draws the positions: the same seed gives the same patches.</param>
    /// <returns>A new tensor <c>[count, channels, size, size]</c> of the image's dtype and device; the caller owns it.</returns>
    /// <exception cref="ArgumentException">The image is not 3-D, or a size or count is out of range.</exception>
    public static Tensor Extract(Tensor image, int size, int count, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(generator);
        if (image.dim() != 3)
            throw new ArgumentException($"Expected image with shape [channels, height, width]; got {Guard.Shape(image.shape)}.", nameof(image));
        long channels = image.size(0), height = image.size(1), width = image.size(2);
        if (size < 1 || size > height || size > width)
            throw new ArgumentOutOfRangeException(nameof(size), size,
                $"size must be from 1 to the image's smaller side ({Math.Min(height, width)} for an image of shape {Guard.Shape(image.shape)}); got {size}.");
        Guard.Positive(count, nameof(count));
        MemoryBudget.RequireFits(count, channels * size * size, image.dtype, image.device_type, nameof(count), "patches");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var top = Draw.Integers(0, height - size + 1, new long[] { count, 1, 1 }, null, generator);
        var left = Draw.Integers(0, width - size + 1, new long[] { count, 1, 1 }, null, generator);
        using var sizeScalar = size.ToScalar();
        using var widthScalar = width.ToScalar();
        var offsets = torch.arange(Scalars.Zero, sizeScalar, Scalars.One, dtype: ScalarType.Int64);
        // Linear index of pixel (i, j) of patch n: (top_n + i) * width + left_n + j, shape [count, size, size].
        var index = top.add(offsets.view(1, size, 1), Scalars.One).mul(widthScalar).add(left.add(offsets.view(1, 1, size), Scalars.One), Scalars.One).to(image.device);
        var flat = image.reshape(channels, height * width);
        var patches = flat.index_select(1, index.flatten()).view(channels, count, size, size).permute(1, 0, 2, 3).contiguous();
        return scope.MoveToOuter(patches);
    }

    /// <summary>
    /// The BSDS300 preprocessing: flattens each patch, subtracts its own mean (over all its pixels and channels) and drops the
    /// last value, giving <c>D - 1</c> values per patch (63 for 8 x 8 grey patches).
    /// </summary>
    /// <remarks>
    /// Why drop one: after the mean is removed the values of a patch sum to zero, so any one of them is minus the sum of the
    /// others. The patches then lie on a <c>(D - 1)</c>-dimensional hyperplane, where a density on all <c>D</c> values does not
    /// exist (the covariance is singular, and a flow's likelihood could grow without bound by collapsing onto the plane). The
    /// remaining <c>D - 1</c> values determine the mean-free patch exactly (the last one is <c>-sum</c> of them), so nothing but
    /// the mean is lost, and log-likelihoods of the result are proper densities on <c>R^(D-1)</c>.
    /// </remarks>
    /// <param name="patches">Patches <c>[count, ...]</c> with at least two values each, e.g. <c>[count, channels, size, size]</c>
    /// from <see cref="Extract"/> or already flat <c>[count, D]</c>; floating point. Not changed.</param>
    /// <returns>A new tensor <c>[count, D - 1]</c>; the caller owns it.</returns>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions, fewer than 2 values per patch, or is not floating point.</exception>
    public static Tensor RemoveMean(Tensor patches)
    {
        ArgumentNullException.ThrowIfNull(patches);
        if (patches.dim() < 2)
            throw new ArgumentException($"Expected patches with shape [count, ...]; got {Guard.Shape(patches.shape)}.", nameof(patches));
        if (!patches.is_floating_point())
            throw new ArgumentException($"Expected floating-point patches; got {patches.dtype}.", nameof(patches));
        using var scope = torch.NewDisposeScope();
        var flat = patches.reshape(patches.size(0), -1);
        long values = flat.size(1);
        if (values < 2)
            throw new ArgumentException($"Expected at least 2 values per patch; got {values} (shape {Guard.Shape(patches.shape)}).", nameof(patches));
        var centred = flat.sub(flat.mean(new long[] { 1 }, keepdim: true));
        return scope.MoveToOuter(centred.narrow(1, 0, values - 1).contiguous());
    }
}
