using System;
using System.Collections.Generic;
using System.Linq;

namespace NormalizingFlows.Cli.Fitting;

/// <summary><c>--resume</c> was given a checkpoint made from other data or with other options; nothing was trained.</summary>
internal sealed class ResumeMismatchException : Exception
{
    /// <summary>Creates the exception; its message names the checkpoint and lists <paramref name="differences"/>.</summary>
    public ResumeMismatchException(string checkpointPath, IReadOnlyList<string> differences)
        : base($"cannot resume from {checkpointPath}: this run differs from the one that made it:" + Environment.NewLine +
               string.Join(Environment.NewLine, differences.Select(d => "  " + d)) + Environment.NewLine +
               "Resume with the same data file and options, or start a new run without --resume.") =>
        Differences = differences;

    /// <summary>One line per difference.</summary>
    public IReadOnlyList<string> Differences { get; }
}
