using NormalizingFlows.Plotting.Internal;

namespace NormalizingFlows.Plotting.Tests.Internal;

/// <summary>Runs alone: one test resets ScottPlot's process-wide font list, which every other plot reads.</summary>
[CollectionDefinition(nameof(PlotFontsTests), DisableParallelization = true)]
public sealed class PlotFontsCollection;

[Collection(nameof(PlotFontsTests))]
public sealed class PlotFontsTests
{
    [Fact]
    public void Should_Load_The_Embedded_Regular_And_Bold_Typefaces()
    {
        Assert.Equal("DejaVu Sans", PlotFonts.RegularTypeface.FamilyName);
        Assert.Equal("DejaVu Sans", PlotFonts.BoldTypeface.FamilyName);
        Assert.True(PlotFonts.RegularTypeface.GlyphCount > 1000);
        Assert.True(PlotFonts.BoldTypeface.FontWeight > PlotFonts.RegularTypeface.FontWeight);
        // Subscript digits and the minus sign used in axis labels and titles exist in the font.
        Assert.All("x\u2081\u2082\u2212\u2264\u2192", c => Assert.NotEqual(0, PlotFonts.RegularTypeface.GetGlyph(c)));
    }

    [Fact]
    public void Should_Resolve_The_Family_To_The_Embedded_Typeface_Even_After_ScottPlot_Resets_Its_Fonts()
    {
        ScottPlot.Fonts.Reset();
        using var plot = Figure.NewPlot();
        Assert.Same(PlotFonts.RegularTypeface, ScottPlot.Fonts.GetTypeface(PlotFonts.Family, bold: false, italic: false));
        Assert.Same(PlotFonts.BoldTypeface, ScottPlot.Fonts.GetTypeface(PlotFonts.Family, bold: true, italic: false));
        Assert.Equal(PlotFonts.Family, plot.Axes.Title.Label.FontName);
        Assert.Equal(PlotFonts.Family, plot.Axes.Bottom.Label.FontName);
    }
}
