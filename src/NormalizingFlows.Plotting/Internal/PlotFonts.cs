using System;
using System.IO;
using ScottPlot;
using SkiaSharp;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>
/// The font every plot of this package uses: DejaVu Sans, embedded in the assembly (regular and bold, unmodified; licence in
/// <c>Fonts/LICENSE.txt</c>). SkiaSharp's Linux native library finds fonts only in the system's font folders, and a fresh
/// server or container often has none: ScottPlot then draws every title, label and tick without a single glyph. An
/// embedded font makes the text independent of the machine.
/// </summary>
/// <remarks>The font is offered to ScottPlot through a resolver at the front of <see cref="Fonts.FontResolvers"/> that answers
/// only for <see cref="Family"/>; other plots of the same process keep their own fonts.</remarks>
internal static class PlotFonts
{
    /// <summary>The family name the embedded typefaces answer to.</summary>
    public const string Family = "DejaVu Sans";

    private static readonly object Gate = new();
    private static readonly Lazy<SKTypeface> Regular = new(() => Load("DejaVuSans.ttf"));
    private static readonly Lazy<SKTypeface> Bold = new(() => Load("DejaVuSans-Bold.ttf"));
    private static readonly EmbeddedResolver Resolver = new();

    /// <summary>The embedded regular typeface.</summary>
    public static SKTypeface RegularTypeface => Regular.Value;

    /// <summary>The embedded bold typeface.</summary>
    public static SKTypeface BoldTypeface => Bold.Value;

    /// <summary>Makes every text element of <paramref name="plot"/> use the embedded font.</summary>
    public static void Apply(Plot plot)
    {
        EnsureRegistered();
        plot.Font.Set(Family);
    }

    /// <summary>Puts the resolver at the front of ScottPlot's list (again, if <see cref="Fonts.Reset"/> removed it).</summary>
    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (!Fonts.FontResolvers.Contains(Resolver))
                Fonts.FontResolvers.Insert(0, Resolver);
        }
    }

    private static SKTypeface Load(string file)
    {
        string name = $"NormalizingFlows.Plotting.Fonts.{file}";
        using var stream = typeof(PlotFonts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded font resource '{name}' is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        using var data = SKData.CreateCopy(copy.ToArray());
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"SkiaSharp could not read the embedded font '{name}'.");
    }

    private sealed class EmbeddedResolver : IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) =>
            Matches(fontName) ? (weight >= FontWeight.SemiBold ? Bold.Value : Regular.Value) : null;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            Matches(fontName) ? (bold ? Bold.Value : Regular.Value) : null;

        private static bool Matches(string fontName) => string.Equals(fontName, Family, StringComparison.OrdinalIgnoreCase);
    }
}
