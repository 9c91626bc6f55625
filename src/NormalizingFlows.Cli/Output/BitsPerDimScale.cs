using System;
using NormalizingFlows.Images;

namespace NormalizingFlows.Cli.Output;

/// <summary>
/// Which scale a printed bits/dim figure is on, so that a continuous density's figure (which can be negative and depends on the
/// data's units) is never read as a discrete code length. Written as <c>bits_per_dim_scale</c> in metrics.json and the model's
/// metadata.
/// </summary>
internal static class BitsPerDimScale
{
    /// <summary>Continuous data: <c>nll / (D ln 2)</c> of a density; not a code length, not comparable with discrete bits/dim.</summary>
    public const string Continuous = "continuous";

    /// <summary>Every column is an integer level dequantised as <c>k + u</c> (cells of volume 1): <c>nll / (D ln 2)</c> is an upper
    /// bound on the discrete data's bits per value.</summary>
    public const string Level = "level";

    /// <summary>Image patches dequantised as <c>(level + u) / 256</c>: <c>nll / (D ln 2) + 8</c>, the 8-bit scale of published
    /// image bits/dim.</summary>
    public const string EightBit = "8-bit";

    /// <summary>Some columns dequantised, some continuous: no bits/dim is printed (nats only).</summary>
    public const string None = "none";

    /// <summary>The scale of a model over <paramref name="features"/> columns, <paramref name="dequantized"/> of them dequantised
    /// integer levels, or of <c>--images</c> patches.</summary>
    public static string Of(long features, int dequantized, bool imagePatches) =>
        imagePatches ? EightBit : dequantized == 0 ? Continuous : dequantized == features ? Level : None;

    /// <summary>Bits per dimension on <paramref name="scale"/>; NaN for <see cref="None"/> or a non-finite NLL.</summary>
    public static double Value(string scale, double nll, long dimensions)
    {
        if (!double.IsFinite(nll) || scale == None) return double.NaN;
        return scale == EightBit ? Dequantization.BitsPerDimension(nll, dimensions, 256) : nll / (dimensions * Math.Log(2));
    }

    /// <summary>One line that says what the scale means, for the summary table.</summary>
    public static string Describe(string scale) => scale switch
    {
        Continuous => "continuous: nats / (D ln 2) of a density, can be negative; not a discrete code length",
        Level => "level: dequantised integer levels (k + u); an upper bound on the discrete bits per value",
        EightBit => "8-bit: pixels (level + u) / 256; nats / (D ln 2) + 8, as published image bits/dim",
        _ => "none: some columns dequantised, some continuous; nats only",
    };

    /// <summary>"F4 bits/dim" text, or "n/a" when there is no figure on this scale.</summary>
    public static string Text(string scale, double nll, long dimensions)
    {
        double value = Value(scale, nll, dimensions);
        return double.IsFinite(value) ? value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture) + $" bits/dim ({scale})" : "no bits/dim (nats only)";
    }
}
