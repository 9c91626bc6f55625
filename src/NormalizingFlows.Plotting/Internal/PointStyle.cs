using ScottPlot;

namespace NormalizingFlows.Plotting.Internal;

/// <summary>Marker size and opacity that keep a scatter readable from a handful to tens of thousands of points.</summary>
internal static class PointStyle
{
    /// <summary>Colour of target samples.</summary>
    public static readonly Color Target = Color.FromHex("#1f77b4");

    /// <summary>Colour of model samples.</summary>
    public static readonly Color Model = Color.FromHex("#ff7f0e");

    /// <summary>Marker diameter in pixels for <paramref name="count"/> points.</summary>
    public static float Size(long count) => count switch { <= 1_000 => 5, <= 5_000 => 4, <= 20_000 => 3, _ => 2 };

    /// <summary>Marker opacity for <paramref name="count"/> points.</summary>
    public static double Opacity(long count) => count switch { <= 1_000 => 0.8, <= 5_000 => 0.5, <= 20_000 => 0.35, _ => 0.25 };

    /// <summary>Adds <paramref name="x"/>, <paramref name="y"/> as translucent filled circles.</summary>
    public static ScottPlot.Plottables.Markers Add(Plot plot, double[] x, double[] y, Color color, string? legend = null)
    {
        var markers = plot.Add.Markers(x, y, MarkerShape.FilledCircle, Size(x.Length), color.WithOpacity(Opacity(x.Length)));
        if (legend is not null) markers.LegendText = legend;
        return markers;
    }
}
