using System;
using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Demos;
using NormalizingFlows.Cli.Help;

namespace NormalizingFlows.Cli.Commands;

/// <summary>
/// <c>nflows demo &lt;target&gt;</c>: trains a source tutorial's flow on its target, then writes metrics.json,
/// losses.csv and model.bin. Every option is validated while parsing, before any work.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Example command lines shown in <c>nflows demo --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows demo uniform-normal",
        "nflows demo banana --out runs/banana --seed 1",
        "nflows demo uniform-normal --iterations 200 --batch 256 --eval-samples 200000",
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var target = new Argument<string?>("target")
        {
            Arity = ArgumentArity.ZeroOrOne,
            Description = $"The target to learn: {DemoPreset.KnownNames}.",
            HelpName = "target",
        };
        target.CompletionSources.Add(_ => DemoPreset.All.Select(p => new CompletionItem(p.Name)));
        target.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string?>();
            if (name is not null && DemoPreset.Find(name) is null)
                result.AddError($"Unknown target '{name}'. Known targets: {DemoPreset.KnownNames}.");
        });
        var flow = new Option<string?>("--flow", "-f")
        {
            Description = "Learn the target with this catalogue flow instead of the tutorial's ('list' prints the catalogue)",
            HelpName = "name",
        };
        flow.CompletionSources.Add(_ => FlowCatalog.All.Select(p => new CompletionItem(p.Name)).Append(new CompletionItem("list")));
        flow.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string?>();
            if (name is null || name == "list") return;
            var preset = FlowCatalog.All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
            if (preset is null)
                result.AddError($"Unknown flow '{name}'. Known flows: {string.Join(", ", FlowCatalog.All.Select(p => p.Name))} (or 'list').");
            else if (!preset.HasDensity)
                result.AddError($"--flow {preset.Name} has no closed-form inverse, so it cannot be fitted to samples by maximum likelihood.");
        });

        var output = new Option<DirectoryInfo?>("--out", "-o")
        {
            Description = "Folder for metrics.json, losses.csv and model.bin [default: ./runs/<target>-<yyyyMMdd-HHmmss>]",
            HelpName = "dir",
        };
        var iterations = new Option<int?>("--iterations", "-n")
        {
            Description = $"Training steps [default: {DefaultsPerTarget(p => p.Iterations)}]",
            HelpName = "count",
            CustomParser = result => ParsePositive(result, int.MaxValue) is { } value ? (int)value : null,
        };
        var batch = new Option<int?>("--batch", "-b")
        {
            Description = $"Fresh target samples per step [default: {DefaultsPerTarget(p => p.BatchSize)}]",
            HelpName = "rows",
            CustomParser = result => ParsePositive(result, int.MaxValue) is { } value ? (int)value : null,
        };
        var seed = new Option<long>("--seed", "-s")
        {
            Description = "Seed of the initial weights and of the training samples; evaluation uses seed + 1",
            DefaultValueFactory = _ => 0,
        };
        var evalSamples = new Option<long>("--eval-samples")
        {
            Description = "Fresh target samples for the test NLL and the KL divergence",
            DefaultValueFactory = _ => DemoPreset.DefaultEvalSamples,
            HelpName = "count",
            CustomParser = result => ParsePositive(result, long.MaxValue) ?? 0,
        };

        var command = new Command("demo",
            "Train a tutorial's flow on a built-in target, then write metrics.json, losses.csv and model.bin. " +
            "uniform-normal: 16 x [affine coupling + LU linear], Adam, weight decay 1e-5. " +
            "banana: RealNVP with 8 couplings, Adam, no weight decay. Learning rate 1e-3; " +
            "metrics: test NLL and KL(p||q) in nats on fresh samples, the grid integral of q, timings.")
        {
            target,
            flow,
            output,
            iterations,
            batch,
            seed,
            evalSamples,
        };
        CliHelp.SetExamples(command, Examples);

        command.SetAction((parseResult, cancellationToken) =>
        {
            string? flowName = parseResult.GetValue(flow);
            if (flowName == "list")
            {
                foreach (var p in FlowCatalog.All)
                    context.Output.WriteLine($"{p.Name,-20} {(p.HasDensity ? "" : "[sampling only] ")}{p.Description}");
                return Task.FromResult(ExitCodes.Ok);
            }
            string? targetName = parseResult.GetValue(target);
            if (targetName is null)
            {
                context.Error.WriteLine($"error: demo needs a target: {DemoPreset.KnownNames}. Run 'nflows demo --help' for usage.");
                return Task.FromResult(ExitCodes.Usage);
            }
            var preset = DemoPreset.Find(targetName)!;
            if (flowName is not null) preset = preset.WithFlow(FlowCatalog.Get(flowName));
            var settings = new DemoSettings(
                preset,
                parseResult.GetValue(iterations) ?? preset.Iterations,
                parseResult.GetValue(batch) ?? preset.BatchSize,
                parseResult.GetValue(seed),
                parseResult.GetValue(evalSamples),
                parseResult.GetValue(output)?.FullName);
            // Runs synchronously on the calling thread (TorchSharp's dispose scopes are thread-local).
            return Task.FromResult(DemoRunner.Run(settings, context, cancellationToken));
        });
        return command;
    }

    /// <summary>
    /// Parses the option's single token as an integer in [1, <paramref name="maximum"/>]; otherwise adds a
    /// one-line error naming the option (by its full name, whichever alias was typed) and returns null.
    /// </summary>
    private static long? ParsePositive(ArgumentResult result, long maximum)
    {
        string name = result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
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

    private static string DefaultsPerTarget(Func<DemoPreset, int> value)
    {
        var values = DemoPreset.All.Select(value).Distinct().ToArray();
        return values.Length == 1
            ? values[0].ToString(CultureInfo.InvariantCulture)
            : string.Join(", ", DemoPreset.All.Select(p => $"{value(p).ToString(CultureInfo.InvariantCulture)} for {p.Name}"));
    }
}
