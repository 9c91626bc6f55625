namespace NormalizingFlows.Cli;

/// <summary>The process exit codes of <c>nflows</c>, as documented in every command's help.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>The command started but failed (I/O error, numerical failure, ...).</summary>
    public const int Failure = 1;

    /// <summary>Bad usage: unknown command, option or target, or an invalid option value. Nothing was run.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C): training stopped early; what was trained so far is written.</summary>
    public const int Interrupted = 130;
}
