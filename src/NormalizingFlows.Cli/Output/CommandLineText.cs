using System.CommandLine;
using System.Linq;

namespace NormalizingFlows.Cli.Output;

/// <summary>The command line of a run, as recorded in its metrics and model so that the run can be repeated.</summary>
internal static class CommandLineText
{
    /// <summary><c>nflows</c> and the parsed tokens, each quoted for a POSIX shell when it needs to be.</summary>
    public static string Of(ParseResult parseResult) =>
        "nflows " + string.Join(" ", parseResult.Tokens.Select(t => Quote(t.Value)));

    private static string Quote(string token) =>
        token.Length > 0 && token.All(c => char.IsLetterOrDigit(c) || "-_./:,=+@".Contains(c)) ? token : "'" + token.Replace("'", "'\\''") + "'";
}
