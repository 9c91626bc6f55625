using System;
using System.IO;

namespace NormalizingFlows.Serialization;

/// <summary>
/// A model file that cannot be read: not a model file, truncated, corrupt (a checksum mismatch), written by a newer
/// version of the library, or describing a model its weights do not fit. The message starts with the file's path and
/// says what is wrong (for the architecture, where in <c>architecture.json</c>).
/// </summary>
public sealed class ModelFileException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The file that could not be read.</param>
    /// <param name="problem">What is wrong with it; the message is <c>"{filePath}: {problem}"</c>.</param>
    /// <param name="innerException">The error that revealed the problem, if any.</param>
    public ModelFileException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that could not be read.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with the file (the message without the path).</summary>
    public string Problem { get; }
}
