using System;

namespace NormalizingFlows.Training;

/// <summary>
/// A fit that could not go on: too many steps in a row had a non-finite loss or gradient. The model keeps the parameters
/// of its last good step (or of its best validation loss when <see cref="FitOptions.RestoreBest"/> applies);
/// <see cref="Result"/> holds what was done until then.
/// </summary>
public sealed class FitFailedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong and what to try.</param>
    /// <param name="result">The steps run until the failure.</param>
    public FitFailedException(string message, FitResult result) : base(message) => Result = result;

    /// <summary>The steps run until the failure.</summary>
    public FitResult Result { get; }
}
