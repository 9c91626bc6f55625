namespace NormalizingFlows.Bijectors;

/// <summary>
/// Which values of an image <c>[channels, height, width]</c> an <see cref="ImageCoupling"/> transforms; it conditions on the
/// others. The two spatial masks and the two channel masks of RealNVP (Dinh, Sohl-Dickstein and Bengio, 2017, section 3.4).
/// </summary>
/// <remarks>Alternate the two of a kind from one layer to the next so that every value gets transformed. A channel mask needs
/// at least 2 channels: squeeze a 1-channel image first (RealNVP runs its checkerboard couplings before the squeeze).</remarks>
public enum ImageMask
{
    /// <summary>Transforms the pixels at row <c>i</c>, column <c>j</c> with <c>i + j</c> even (including the top-left one), in every
    /// channel, given the others.</summary>
    CheckerboardEven,

    /// <summary>Transforms the pixels with <c>i + j</c> odd, in every channel, given the others.</summary>
    CheckerboardOdd,

    /// <summary>Transforms the first <c>ceil(C / 2)</c> channels given the last <c>floor(C / 2)</c>.</summary>
    FirstChannels,

    /// <summary>Transforms the last <c>ceil(C / 2)</c> channels given the first <c>floor(C / 2)</c>.</summary>
    LastChannels,
}
