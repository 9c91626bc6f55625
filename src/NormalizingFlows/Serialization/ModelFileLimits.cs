using System;

namespace NormalizingFlows.Serialization;

/// <summary>
/// Limits on what a model file (or training checkpoint) may make the loader allocate. Model files are untrusted: every size
/// they declare (zip entry lengths, widths, layer counts, parameter counts) is checked against these limits and against the
/// bytes the file really holds before anything of that size is allocated or built; a file over a limit is a
/// <see cref="ModelFileException"/> naming the file, the field and the limit. The defaults are generous for real flows;
/// pass a larger limit to <see cref="ModelFile.Load"/> for a larger model.
/// </summary>
/// <remarks>
/// <para>Independently of these limits, a file is also rejected when a zip entry appears twice, when an entry declares more
/// compressed bytes than the file has or more inflated bytes than deflate can produce from them (1032 to 1), when an entry
/// inflates to more than it declares, and when the architecture describes more parameters than <c>weights.bin</c> holds
/// values (so a small file describing a huge network is rejected before the network is built).</para>
/// </remarks>
public sealed record ModelFileLimits
{
    /// <summary>The default limits.</summary>
    public static ModelFileLimits Default { get; } = new();

    /// <summary>The largest <c>architecture.json</c>, inflated, in bytes (default 16 MiB).</summary>
    public long MaxArchitectureBytes { get; init; } = 16L << 20;

    /// <summary>The most bytes all entries read may inflate to together (default 1 GiB; the weights of a float32 model of
    /// 250 million parameters fit).</summary>
    public long MaxInflatedBytes { get; init; } = 1L << 30;

    /// <summary>The most parts (each object with a <c>"type"</c>: bijectors, conditioners, transforms, distributions) the
    /// architecture may describe (default 10 000).</summary>
    public int MaxParts { get; init; } = 10_000;

    /// <summary>The largest size the architecture may give a width: features, hidden widths, channels, an image's height and
    /// width, each dimension of an event shape, bins, components (default 65 536).</summary>
    public int MaxWidth { get; init; } = 65_536;

    /// <summary>The largest number of values in one event (the product of an event shape, or channels x height x width;
    /// default 16 777 216).</summary>
    public long MaxEventSize { get; init; } = 1L << 24;

    /// <summary>The most parameter and buffer values the model may have: the values stored in <c>weights.bin</c> and the
    /// parameters the architecture describes (default 250 000 000).</summary>
    public long MaxParameters { get; init; } = 250_000_000;

    /// <summary>Checks that every limit is positive; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxArchitectureBytes, 1, nameof(MaxArchitectureBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInflatedBytes, 1, nameof(MaxInflatedBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParts, 1, nameof(MaxParts));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWidth, 1, nameof(MaxWidth));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEventSize, 1, nameof(MaxEventSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParameters, 1, nameof(MaxParameters));
    }
}
