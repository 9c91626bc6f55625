namespace NormalizingFlows.Images;

/// <summary>The channels <see cref="ImageFile.Read(string, ImageColor)"/> returns.</summary>
public enum ImageColor
{
    /// <summary>One channel: the ITU-R BT.601 luma <c>0.299 R + 0.587 G + 0.114 B</c>, rounded to the nearest integer level.
    /// A grey image's values come back unchanged.</summary>
    Grey,

    /// <summary>Three channels, red, green and blue, in that order. A grey image gets three equal channels.</summary>
    Rgb,
}
