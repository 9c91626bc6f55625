using System;
using NormalizingFlows.Plotting.Internal;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Plotting;

public static partial class Plots
{
    /// <summary>
    /// A sheet of small images (samples of an image flow, or data): <c>images</c> of shape <c>[count, channels, height, width]</c>
    /// (1 channel: grey; 3: RGB) with values in <c>[low, high]</c>, laid out in rows of <paramref name="columns"/>, each pixel
    /// drawn as a <paramref name="scale"/> x <paramref name="scale"/> block (no smoothing), with a thin gap between images.
    /// Values outside the range are clipped.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="images">The images, <c>[count, channels, height, width]</c>, channels 1 or 3.</param>
    /// <param name="columns">Images per row; 0 for a square-ish sheet.</param>
    /// <param name="scale">Screen pixels per image pixel, 1 to 64.</param>
    /// <param name="low">The value drawn black.</param>
    /// <param name="high">The value drawn white (full intensity).</param>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException">The shape is not <c>[count, 1 or 3, height, width]</c>, there is no image, or the range is empty.</exception>
    public static string ImageGrid(string path, Tensor images, int columns = 0, int scale = 8, double low = 0, double high = 1)
    {
        Figure.CheckPath(path, nameof(path));
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3) || images.size(0) == 0)
            throw new ArgumentException($"Expected images with shape [count, 1 or 3, height, width]; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (scale < 1 || scale > 64) throw new ArgumentOutOfRangeException(nameof(scale), scale, $"Expected a scale from 1 to 64; got {scale}.");
        if (!(high > low)) throw new ArgumentException($"Expected high above low; got low {low}, high {high}.", nameof(high));
        int count = (int)images.size(0), channels = (int)images.size(1), h = (int)images.size(2), w = (int)images.size(3);
        if (columns <= 0) columns = (int)Math.Ceiling(Math.Sqrt(count));
        int rows = (count + columns - 1) / columns, gap = Math.Max(1, scale / 2);
        float[] values;
        using (var scope = torch.NewDisposeScope())
        {
            // Held Scalars: a bare number becomes a temporary one that a collection can free during the call (build/BannedSymbols.txt).
            using Scalar offset = low.ToScalar(), range = (high - low).ToScalar(), zero = 0.0.ToScalar(), one = 1.0.ToScalar(), full = 255.0.ToScalar();
            values = images.detach().to(ScalarType.Float32).cpu().sub(offset).div(range).clamp(zero, one).mul(full).contiguous().data<float>().ToArray();
        }
        int cellW = w * scale + gap, cellH = h * scale + gap;
        using var bitmap = new SKBitmap(columns * cellW + gap, rows * cellH + gap, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap)) canvas.Clear(new SKColor(230, 230, 230));
        for (int n = 0; n < count; n++)
        {
            int x0 = gap + (n % columns) * cellW, y0 = gap + (n / columns) * cellH;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    byte Channel(int c) => (byte)Math.Round(values[((n * channels + c) * h + y) * w + x]);
                    var color = channels == 1 ? new SKColor(Channel(0), Channel(0), Channel(0)) : new SKColor(Channel(0), Channel(1), Channel(2));
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                            bitmap.SetPixel(x0 + x * scale + dx, y0 + y * scale + dy, color);
                }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return Figure.Write(path, data.ToArray());
    }
}
