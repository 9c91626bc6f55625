using System;

namespace NormalizingFlows.Data;

/// <summary>
/// A data file (or stream) that cannot be read: its message starts with where the problem is, as compilers write it,
/// <c>path:line:column: what</c> for text files (1-based line; the column is the 1-based field number) and
/// <c>path: what</c> for binary files.
/// </summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception for a problem at a line and field of a text source.</summary>
    /// <param name="source">The file path (or the name given for a stream).</param>
    /// <param name="line">The 1-based line number.</param>
    /// <param name="column">The 1-based field number.</param>
    /// <param name="problem">What is wrong, e.g. <c>field 3 ("age") is not a number: "abc"</c>.</param>
    public DataFormatException(string source, long line, int column, string problem)
        : base($"{source}:{line}:{column}: {problem}")
    {
        SourceName = source;
        Line = line;
        Column = column;
        Problem = problem;
    }

    /// <summary>Creates the exception for a problem in a binary source, where lines and fields do not apply.</summary>
    /// <param name="source">The file path (or the name given for a stream).</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="innerException">The exception that revealed the problem, or null.</param>
    public DataFormatException(string source, string problem, Exception? innerException = null)
        : base($"{source}: {problem}", innerException)
    {
        SourceName = source;
        Problem = problem;
    }

    /// <summary>The file path, or the name given for a stream.</summary>
    public string SourceName { get; }

    /// <summary>The 1-based line of the problem; null for binary sources.</summary>
    public long? Line { get; }

    /// <summary>The 1-based field number of the problem; null for binary sources.</summary>
    public int? Column { get; }

    /// <summary>The problem without its location.</summary>
    public string Problem { get; }
}
