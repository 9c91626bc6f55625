using System;
using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;

namespace NormalizingFlows.Cli.Options;

/// <summary>
/// The options several commands share, made in one place so that every command spells them the same way
/// (<c>--out/-o</c>, <c>--seed/-s</c>, <c>--iterations/-n</c>, <c>--batch/-b</c>, <c>--flow/-f</c>, <c>--lr</c>, <c>--device</c>, <c>--dtype</c>),
/// and the parsers that validate values while parsing, so that a bad value fails with exit code 2 before any work.
/// </summary>
internal static class CliOptions
{
    /// <summary><c>--out/-o DIR</c>: the run's output folder.</summary>
    public static Option<DirectoryInfo?> OutDirectory(string description) => new("--out", "-o") { Description = description, HelpName = "dir" };

    /// <summary><c>--seed/-s N</c>: seed of the initial weights and of the training data.</summary>
    public static Option<long> Seed(string description) => new("--seed", "-s") { Description = description, DefaultValueFactory = _ => 0 };

    /// <summary><c>--iterations/-n N</c>: training steps.</summary>
    public static Option<int?> Iterations(string defaultText) => new("--iterations", "-n")
    {
        Description = $"Training steps [default: {defaultText}]",
        HelpName = "count",
        CustomParser = result => ParsePositive(result, int.MaxValue) is { } value ? (int)value : null,
    };

    /// <summary><c>--batch/-b N</c>: rows (or samples) per step.</summary>
    public static Option<int?> Batch(string description) => new("--batch", "-b")
    {
        Description = description,
        HelpName = "rows",
        CustomParser = result => ParsePositive(result, int.MaxValue) is { } value ? (int)value : null,
    };

    /// <summary><c>--lr RATE</c>: the peak learning rate.</summary>
    public static Option<double?> LearningRate(string defaultText) => new("--lr")
    {
        Description = $"Learning rate [default: {defaultText}]",
        HelpName = "rate",
        CustomParser = ParsePositiveDouble,
    };

    /// <summary><c>--layers N</c>: layers or steps of the flow.</summary>
    public static Option<int?> Layers() => new("--layers")
    {
        Description = "Layers (or steps) of the flow [default: the preset's]",
        HelpName = "count",
        CustomParser = result => ParsePositive(result, 10_000) is { } value ? (int)value : null,
    };

    /// <summary><c>--hidden W1,W2,...</c>: hidden widths of each conditioner network.</summary>
    public static Option<int[]?> Hidden() => new("--hidden")
    {
        Description = "Hidden widths of each conditioner network, comma separated, e.g. 64,64 [default: the preset's]",
        HelpName = "widths",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var widths = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out widths[i]) || widths[i] <= 0 || widths[i] > 1_000_000)
                {
                    result.AddError($"--hidden must be positive integers separated by commas, e.g. 64,64; got '{text}'.");
                    return null;
                }
            }
            return widths;
        },
    };

    /// <summary>The value of a <see cref="Hidden"/> option, or null when it was not given (System.CommandLine reports an absent
    /// array option as an empty array, which would otherwise mean "no hidden layers").</summary>
    public static int[]? GetHidden(ParseResult parseResult, Option<int[]?> hidden) =>
        parseResult.GetValue(hidden) is { Length: > 0 } widths ? widths : null;

    /// <summary><c>--flow/-f NAME</c>: a catalogue preset; <paramref name="needsDensity"/> rejects flows without an inverse.</summary>
    public static Option<string?> Flow(string description, bool needsDensity, bool allowList)
    {
        var option = new Option<string?>("--flow", "-f") { Description = description, HelpName = "name" };
        option.CompletionSources.Add(_ => FlowCatalog.All.Select(p => new CompletionItem(p.Name)).Concat(allowList ? new[] { new CompletionItem("list") } : Array.Empty<CompletionItem>()));
        option.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string?>();
            if (name is null || (allowList && name == "list")) return;
            var preset = FindFlow(name);
            if (preset is null)
                result.AddError($"Unknown flow '{name}'. Known flows: {string.Join(", ", FlowCatalog.All.Select(p => p.Name))}{(allowList ? " (or 'list')" : "")}.");
            else if (needsDensity && !preset.HasDensity)
                result.AddError($"--flow {preset.Name} has no closed-form inverse, so it cannot be fitted to samples by maximum likelihood.");
        });
        return option;
    }

    /// <summary><c>--threads N</c>: libtorch's CPU threads (given to <see cref="NormalizingFlows.Runtime.Threads.Configure"/>); every
    /// command takes it (it is recursive on the root command).</summary>
    public static Option<int?> Threads() => new("--threads")
    {
        Description = "CPU threads for training and evaluation [default: libtorch's, one per core]; idle threads sleep " +
            "(OMP_WAIT_POLICY=PASSIVE unless the environment sets it)",
        HelpName = "count",
        Recursive = true,
        CustomParser = result => ParsePositive(result, 4096) is { } value ? (int)value : null,
    };

    /// <summary><c>--device cpu|cuda|cuda:N</c>.</summary>
    public static Option<string> Device() => new("--device")
    {
        Description = "Where to compute: cpu, cuda or cuda:N (CUDA needs a CUDA build of TorchSharp and a GPU)",
        DefaultValueFactory = _ => "cpu",
        HelpName = "device",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim().ToLowerInvariant() : "cpu";
            bool valid = text is "cpu" or "cuda" || (text.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(text[5..], NumberStyles.None, CultureInfo.InvariantCulture, out _));
            if (!valid) result.AddError($"--device must be cpu, cuda or cuda:N; got '{text}'.");
            return text;
        },
    };

    /// <summary><c>--dtype float32|float64</c>.</summary>
    public static Option<string> Dtype() => new("--dtype")
    {
        Description = "Floating-point precision of the model: float32 or float64",
        DefaultValueFactory = _ => "float32",
        HelpName = "type",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim().ToLowerInvariant() : "float32";
            if (text is not ("float32" or "float64")) result.AddError($"--dtype must be float32 or float64; got '{text}'.");
            return text;
        },
    };

    /// <summary>A catalogue preset by name (case-insensitive), or null.</summary>
    public static FlowPreset? FindFlow(string name) =>
        FlowCatalog.All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Parses the single token as an integer in [1, <paramref name="maximum"/>]; otherwise adds a one-line error naming the option
    /// (by its full name, whichever alias was typed) and returns null.
    /// </summary>
    public static long? ParsePositive(ArgumentResult result, long maximum)
    {
        string name = NameOf(result);
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            result.AddError($"{name} must be a positive integer; got '{text}'.");
            return null;
        }
        if (value <= 0 || value > maximum)
        {
            result.AddError(value <= 0
                ? $"{name} must be a positive integer; got {value.ToString(CultureInfo.InvariantCulture)}."
                : $"{name} must be at most {maximum.ToString(CultureInfo.InvariantCulture)}; got {value.ToString(CultureInfo.InvariantCulture)}.");
            return null;
        }
        return value;
    }

    /// <summary>Parses the single token as a finite number above 0; otherwise adds an error naming the option.</summary>
    public static double? ParsePositiveDouble(ArgumentResult result)
    {
        var value = ParseDouble(result);
        if (value is { } v && !(v > 0))
        {
            result.AddError($"{NameOf(result)} must be above 0; got {v.ToString(CultureInfo.InvariantCulture)}.");
            return null;
        }
        return value;
    }

    /// <summary>Parses the single token as a fraction in [0, 1); otherwise adds an error naming the option.</summary>
    public static double? ParseFraction(ArgumentResult result)
    {
        var value = ParseDouble(result);
        if (value is { } v && !(v >= 0 && v < 1))
        {
            result.AddError($"{NameOf(result)} must be at least 0 and below 1; got {v.ToString(CultureInfo.InvariantCulture)}.");
            return null;
        }
        return value;
    }

    private static double? ParseDouble(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            result.AddError($"{NameOf(result)} must be a number; got '{text}'.");
            return null;
        }
        return value;
    }

    private static string NameOf(ArgumentResult result) => result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
}
