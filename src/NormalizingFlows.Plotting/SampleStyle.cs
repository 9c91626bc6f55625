namespace NormalizingFlows.Plotting;

/// <summary>How <see cref="Plots.Samples(string, TorchSharp.torch.Tensor, NormalizingFlows.Targets.Box?, string?, SampleStyle, int, int, int)"/> draws points.</summary>
public enum SampleStyle
{
    /// <summary>A scatter up to <see cref="Plots.HistogramThreshold"/> points, a 2-D histogram above.</summary>
    Automatic,

    /// <summary>One marker per point (translucent, smaller for many points).</summary>
    Scatter,

    /// <summary>Counts per cell of a square grid, as a heatmap with a colour bar.</summary>
    Histogram,
}
