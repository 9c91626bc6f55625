using System;
using System.IO;
using System.Runtime.InteropServices;
using NormalizingFlows.Data;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Images;

/// <summary>
/// Reads PNG and JPEG images into tensors <c>[channels, height, width]</c> of 8-bit pixel levels, ready for
/// <see cref="Dequantization.Uniform"/> with 256 levels, <see cref="Patches"/> or an image flow (after dividing by 256 or
/// dequantising).
/// </summary>
/// <remarks>
/// <para>Values are float32 integers in 0..255, the file's own 8-bit levels (not scaled to [0, 1]): integer levels are what
/// dequantisation and bits-per-dimension figures are defined on, and dividing by 255 or 256 is one call away. Images with 16
/// bits per channel are reduced to 8 bits by the decoder; an alpha channel is ignored (not composited); colour profiles are
/// not applied.</para>
/// <para>Decoding uses SkiaSharp (the managed package comes with this library; TorchSharp depends on it too). SkiaSharp's
/// native library for Windows and macOS comes with that package; on Linux an application must also reference
/// <c>SkiaSharp.NativeAssets.Linux.NoDependencies</c> (or <c>SkiaSharp.NativeAssets.Linux</c>), otherwise reading throws an
/// <see cref="InvalidOperationException"/> that says so. NormalizingFlows.Plotting brings that package already.</para>
/// </remarks>
public static class ImageFile
{
    /// <summary>Reads an image file.</summary>
    /// <param name="path">A PNG or JPEG file (the content decides, not the extension).</param>
    /// <param name="color"><see cref="ImageColor.Grey"/> for one channel of BT.601 luma (rounded to integer levels),
    /// <see cref="ImageColor.Rgb"/> for three.</param>
    /// <returns>A new float32 CPU tensor <c>[1 or 3, height, width]</c> with integer values 0..255; the caller owns it.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">The file is not an image, is an image of another format than PNG or JPEG, declares
    /// more than <see cref="DefaultMaxPixels"/> pixels, or cannot be decoded; the message starts with the path and names the
    /// problem.</exception>
    /// <exception cref="InvalidOperationException">SkiaSharp's native library is missing (see the remarks).</exception>
    public static Tensor Read(string path, ImageColor color = ImageColor.Grey) => Read(path, color, DefaultMaxPixels);

    /// <summary>The default largest image <see cref="Read(string, ImageColor, long)"/> decodes: 67 108 864 pixels (8192 x 8192).</summary>
    public const long DefaultMaxPixels = 1L << 26;

    /// <summary>Reads an image file, refusing one with more than <paramref name="maxPixels"/> pixels.</summary>
    /// <param name="path">A PNG or JPEG file (the content decides, not the extension).</param>
    /// <param name="color">As <see cref="Read(string, ImageColor)"/>.</param>
    /// <param name="maxPixels">The most pixels (width times height) decoded. The dimensions are read from the file's header
    /// and checked before any pixel memory is allocated, so a small file claiming a huge image fails at once.</param>
    /// <returns>As <see cref="Read(string, ImageColor)"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPixels"/> is not positive.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">As <see cref="Read(string, ImageColor)"/>, or the header declares more than
    /// <paramref name="maxPixels"/> pixels (the message names the file and both sizes).</exception>
    /// <exception cref="InvalidOperationException">SkiaSharp's native library is missing.</exception>
    public static Tensor Read(string path, ImageColor color, long maxPixels)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        if (color is not (ImageColor.Grey or ImageColor.Rgb))
            throw new ArgumentOutOfRangeException(nameof(color), color, $"color must be Grey or Rgb; got {color}.");
        if (!File.Exists(path)) throw new FileNotFoundException($"The image file {path} does not exist.", path);
        byte[] bytes = File.ReadAllBytes(path);
        var (rgba, width, height) = Decode(bytes, path, maxPixels);
        return ToTensor(rgba, width, height, color);
    }

    private static (byte[] Rgba, int Width, int Height) Decode(byte[] bytes, string path, long maxPixels)
    {
        try
        {
            using var data = SKData.CreateCopy(bytes);
            using var codec = SKCodec.Create(data);
            if (codec is null)
                throw new DataFormatException(path, "not an image (expected a PNG or JPEG file).");
            if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg))
                throw new DataFormatException(path, $"unsupported image format {codec.EncodedFormat}; ImageFile reads PNG and JPEG.");
            // The header's dimensions, checked before the pixels are allocated or decoded.
            long width = codec.Info.Width, height = codec.Info.Height;
            if (width < 1 || height < 1)
                throw new DataFormatException(path, $"the {codec.EncodedFormat} header declares an empty image ({width} x {height}).");
            if (width * height > maxPixels)
                throw new DataFormatException(path,
                    $"the {codec.EncodedFormat} header declares {width} x {height} = {width * height} pixels, more than the limit of {maxPixels} " +
                    "(pass a larger maxPixels to ImageFile.Read to decode it).");
            if (width * height * 4 > Array.MaxLength)
                throw new DataFormatException(path, $"the {codec.EncodedFormat} image of {width} x {height} pixels is too large to decode into one array.");
            var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            var rgba = new byte[checked(info.Width * info.Height * 4)];
            var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
            SKCodecResult result;
            try
            {
                result = codec.GetPixels(info, handle.AddrOfPinnedObject());
            }
            finally
            {
                handle.Free();
            }
            // IncompleteInput still fills the missing rows (with zeros); a truncated file is an error here all the same.
            if (result != SKCodecResult.Success)
                throw new DataFormatException(path, $"the {codec.EncodedFormat} image cannot be decoded ({result}).");
            return (rgba, info.Width, info.Height);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException(
                $"Reading {path} needs SkiaSharp's native library, which was not found: on Linux, add the package " +
                "SkiaSharp.NativeAssets.Linux.NoDependencies to the application.", e);
        }
    }

    private static Tensor ToTensor(byte[] rgba, int width, int height, ImageColor color)
    {
        long pixels = (long)width * height;
        if (color == ImageColor.Grey)
        {
            var grey = new float[pixels];
            for (long i = 0; i < pixels; i++)
            {
                long o = 4 * i;
                // BT.601 luma, rounded half away from zero to an integer level (exact for grey pixels: the weights sum to 1).
                grey[i] = (float)Math.Round(0.299 * rgba[o] + 0.587 * rgba[o + 1] + 0.114 * rgba[o + 2], MidpointRounding.AwayFromZero);
            }
            return torch.tensor(grey, new long[] { 1, height, width });
        }
        var planes = new float[3 * pixels];
        for (long i = 0; i < pixels; i++)
        {
            long o = 4 * i;
            planes[i] = rgba[o];
            planes[pixels + i] = rgba[o + 1];
            planes[2 * pixels + i] = rgba[o + 2];
        }
        return torch.tensor(planes, new long[] { 3, height, width });
    }
}
