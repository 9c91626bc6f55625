using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;

namespace NormalizingFlows.Cli.Help;

/// <summary>
/// Help additions (an Examples section per command and the exit codes) and the one-line reports of usage
/// errors. System.CommandLine 3.0 keeps its help builder internal, so the standard help action is wrapped:
/// it writes the usual sections, then ours.
/// </summary>
internal static class CliHelp
{
    /// <summary>Examples shown by <c>nflows --help</c>.</summary>
    public static readonly string[] RootExamples =
    {
        "nflows demo uniform-normal",
        "nflows demo banana --out runs/banana",
        "nflows demo --help",
    };

    private static readonly ConditionalWeakTable<Command, string[]> Examples = new();

    /// <summary>Attaches example command lines to <paramref name="command"/>'s help.</summary>
    public static void SetExamples(Command command, IEnumerable<string> examples) =>
        Examples.AddOrUpdate(command, examples.ToArray());

    /// <summary>Replaces the help option's action under <paramref name="root"/> with one that also prints examples and exit codes.</summary>
    public static void Install(RootCommand root, IEnumerable<string> rootExamples)
    {
        SetExamples(root, rootExamples);
        foreach (var help in root.Options.OfType<HelpOption>())
        {
            if (help.Action is HelpAction standard)
                help.Action = new HelpWithExamplesAction(standard);
        }
    }

    /// <summary>Writes the parse errors of <paramref name="parseResult"/>, one line each, and a pointer to help.</summary>
    /// <returns><see cref="ExitCodes.Usage"/>.</returns>
    public static int ReportUsageErrors(ParseResult parseResult, TextWriter error)
    {
        foreach (var message in parseResult.Errors.Select(e => e.Message).Distinct())
            error.WriteLine($"error: {message}");
        error.WriteLine($"Run '{CommandPath(parseResult.CommandResult)} --help' for usage.");
        return ExitCodes.Usage;
    }

    /// <summary>The exit codes section, as printed in every command's help.</summary>
    public static void WriteExitCodes(TextWriter output)
    {
        output.WriteLine("Exit codes:");
        output.WriteLine("  0    success");
        output.WriteLine("  1    failure during the run (the message says why); an output folder that cannot be written fails before");
        output.WriteLine("       training, and a fit that fails after it started writes losses.csv and metrics.json first");
        output.WriteLine("  2    bad usage: unknown command, option or target, an invalid value, an output that would overwrite an");
        output.WriteLine("       input, or --resume with a checkpoint of other data or options; nothing was run");
        output.WriteLine("  130  interrupted (Ctrl+C): training stops after the current step and the model, losses.csv and");
        output.WriteLine("       metrics.json are written; a second Ctrl+C skips the evaluation and figures");
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c) names.Add(c.Command is RootCommand ? "nflows" : c.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }

    private sealed class HelpWithExamplesAction(HelpAction standard) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int code = standard.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            if (Examples.TryGetValue(parseResult.CommandResult.Command, out var examples) && examples.Length > 0)
            {
                output.WriteLine("Examples:");
                foreach (var example in examples) output.WriteLine($"  {example}");
                output.WriteLine();
            }
            WriteExitCodes(output);
            return code;
        }
    }
}
