using System;
using System.Linq;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Coupling masks: <c>true</c> marks a feature the coupling transforms, <c>false</c> one it passes
/// through unchanged and conditions on. Any <c>bool[]</c> with at least one of each is a valid mask too.
/// </summary>
public static class Masks
{
    /// <summary>Transforms the second half (the first <c>features / 2</c> features condition), or the first half when <paramref name="second"/> is false.</summary>
    public static bool[] Halves(int features, bool second = true)
    {
        CheckFeatures(features);
        int split = features / 2;
        return Enumerable.Range(0, features).Select(i => (i >= split) == second).ToArray();
    }

    /// <summary>Transforms every other feature: the odd ones when <paramref name="parity"/> is 1, the even ones when it is 0.</summary>
    public static bool[] Alternating(int features, int parity)
    {
        CheckFeatures(features);
        if (parity is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(parity), parity, $"parity must be 0 or 1; got {parity}.");
        return Enumerable.Range(0, features).Select(i => i % 2 == parity).ToArray();
    }

    /// <summary>
    /// A checkerboard over an image flattened row by row (index <c>c * height * width + i * width + j</c>): transforms the
    /// pixels with <c>(i + j) % 2 == parity</c>, in every channel. RealNVP's spatial checkerboard mask (Dinh et al., 2017).
    /// </summary>
    /// <param name="height">Image height; at least 1.</param>
    /// <param name="width">Image width; at least 1 (height x width at least 2).</param>
    /// <param name="parity">0 to transform the pixel at (0, 0) and those like it, 1 for the others.</param>
    /// <param name="channels">Number of channels, each masked alike; at least 1.</param>
    public static bool[] Checkerboard(int height, int width, int parity, int channels = 1)
    {
        if (height < 1) throw new ArgumentOutOfRangeException(nameof(height), height, $"height must be at least 1; got {height}.");
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be at least 1; got {width}.");
        if ((long)height * width < 2)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"A checkerboard needs at least 2 pixels; got {height} x {width}.");
        if (parity is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(parity), parity, $"parity must be 0 or 1; got {parity}.");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, $"channels must be at least 1; got {channels}.");
        int pixels = height * width;
        return Enumerable.Range(0, channels * pixels).Select(k =>
        {
            int p = k % pixels;
            return (p / width + p % width) % 2 == parity;
        }).ToArray();
    }

    private static void CheckFeatures(int features)
    {
        if (features < 2)
            throw new ArgumentOutOfRangeException(nameof(features), features, $"A coupling needs at least 2 features (one to transform, one to condition on); got {features}.");
    }
}
