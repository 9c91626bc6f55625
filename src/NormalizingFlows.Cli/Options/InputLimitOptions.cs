using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using NormalizingFlows.Cli.Inference;
using NormalizingFlows.Data;
using NormalizingFlows.Serialization;

namespace NormalizingFlows.Cli.Options;

/// <summary>
/// The options that change how large a data or model file a command accepts (<c>--max-rows</c>, <c>--max-line-bytes</c>,
/// <c>--max-model-parameters</c>, <c>--max-model-bytes</c>): the library's limits on untrusted input are generous for real
/// files, and these raise them for a larger one or lower them for a service that must stay small.
/// </summary>
internal sealed class InputLimitOptions
{
    private readonly Option<long?>? maxRows;
    private readonly Option<long?>? maxLineBytes;
    private readonly Option<long?>? maxModelParameters;
    private readonly Option<long?>? maxModelBytes;

    private InputLimitOptions(bool data, bool model)
    {
        if (data)
        {
            maxRows = Make("--max-rows", "rows", $"Refuse a data file of more rows [default: {Text(TabularReadOptions.DefaultMaxRows)}]", long.MaxValue);
            maxLineBytes = Make("--max-line-bytes", "bytes",
                $"Refuse a text data file with a longer line [default: {Text(TabularReadOptions.DefaultMaxLineLength)}]", int.MaxValue);
        }
        if (model)
        {
            maxModelParameters = Make("--max-model-parameters", "count",
                $"Refuse a model file with more parameters [default: {Text(ModelFileLimits.Default.MaxParameters)}]", long.MaxValue);
            maxModelBytes = Make("--max-model-bytes", "bytes",
                $"Refuse a model file whose entries inflate to more bytes [default: {Text(ModelFileLimits.Default.MaxInflatedBytes)}]", long.MaxValue);
        }
    }

    /// <summary>The options of a command that reads a data file.</summary>
    public static InputLimitOptions ForData() => new(data: true, model: false);

    /// <summary>The options of a command that loads a model file.</summary>
    public static InputLimitOptions ForModel() => new(data: false, model: true);

    /// <summary>The options of a command that reads both.</summary>
    public static InputLimitOptions ForDataAndModel() => new(data: true, model: true);

    /// <summary>Every option, to add to the command.</summary>
    public IEnumerable<Option> All
    {
        get
        {
            foreach (var option in new[] { maxRows, maxLineBytes, maxModelParameters, maxModelBytes })
                if (option is not null) yield return option;
        }
    }

    /// <summary>The limits the command line chose, the defaults where it chose none.</summary>
    public InputLimits Read(ParseResult parseResult)
    {
        var defaults = InputLimits.Default;
        var model = defaults.Model;
        if (Value(parseResult, maxModelParameters) is { } parameters) model = model with { MaxParameters = parameters };
        if (Value(parseResult, maxModelBytes) is { } bytes) model = model with { MaxInflatedBytes = bytes };
        return new InputLimits(
            Value(parseResult, maxRows) ?? defaults.MaxRows,
            (int)(Value(parseResult, maxLineBytes) ?? defaults.MaxLineBytes),
            model);
    }

    private static long? Value(ParseResult parseResult, Option<long?>? option) => option is null ? null : parseResult.GetValue(option);

    private static Option<long?> Make(string name, string helpName, string description, long maximum) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result => CliOptions.ParsePositive(result, maximum),
    };

    private static string Text(long value) => value.ToString("N0", CultureInfo.InvariantCulture).Replace(",", " ", System.StringComparison.Ordinal);
}
