using NormalizingFlows.Data;
using NormalizingFlows.Serialization;

namespace NormalizingFlows.Cli.Inference;

/// <summary>How much of an untrusted data or model file a command accepts before it refuses the file (checked before anything
/// is allocated from the file's headers); the library's defaults unless the command line raised or lowered them.</summary>
/// <param name="MaxRows">Rows of a data file.</param>
/// <param name="MaxLineBytes">Characters in one line of a text data file.</param>
/// <param name="Model">The limits on a model file.</param>
internal sealed record InputLimits(long MaxRows, int MaxLineBytes, ModelFileLimits Model)
{
    /// <summary>The library's defaults (<see cref="TabularReadOptions"/>, <see cref="ModelFileLimits.Default"/>).</summary>
    public static InputLimits Default { get; } =
        new(TabularReadOptions.DefaultMaxRows, TabularReadOptions.DefaultMaxLineLength, ModelFileLimits.Default);
}
