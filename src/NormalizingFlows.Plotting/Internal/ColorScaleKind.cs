namespace NormalizingFlows.Plotting.Internal;

/// <summary>How a <see cref="ColorScale"/> maps values to colours.</summary>
internal enum ColorScaleKind
{
    /// <summary>Linear from 0 (or minus the extent, for signed values) to the largest value.</summary>
    Linear,

    /// <summary>Linear up to a high quantile of the values; everything above it gets the top colour.</summary>
    Clipped,

    /// <summary>The natural logarithm of the values, over <see cref="ColorScale.LogDepth"/> nats below the largest.</summary>
    Log,
}
