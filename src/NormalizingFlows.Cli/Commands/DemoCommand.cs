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
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Output;

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
        "nflows demo",
        "nflows demo uniform-normal",
        "nflows demo banana --out runs/banana --seed 1",
        "nflows demo leaky-coupling --iterations 3000",
        "nflows demo digits",
        "nflows demo uniform-normal --iterations 200 --batch 256 --eval-samples 200000",
        "nflows demo banana --flow flow-matching --grid-steps 100",
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var target = new Argument<string?>("target")
        {
            Arity = ArgumentArity.ZeroOrOne,
            Description = $"The demo: a source tutorial (uniform-normal, banana, leaky-coupling), digits (an image flow on handwritten digits) or another built-in target; none runs the three tutorials. Known: {DemoPreset.KnownNames}, {DigitsDemo.Name}.",
            HelpName = "target",
        };
        target.CompletionSources.Add(_ => DemoPreset.All.Select(p => new CompletionItem(p.Name)));
        target.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string?>();
            if (name is not null && DemoPreset.Find(name) is null && name != DigitsDemo.Name)
                result.AddError($"Unknown target '{name}'. Known targets: {DemoPreset.KnownNames}.");
        });
        var flow = CliOptions.Flow("Learn the target with this catalogue flow instead of the tutorial's ('list' prints the catalogue)", needsDensity: true, allowList: true);

        var output = CliOptions.OutDirectory("Folder for the run's files (without a name: one subfolder per tutorial) [default: ./runs/<demo>-<yyyyMMdd-HHmmss>]");
        var iterations = CliOptions.Iterations(DefaultsPerTarget(p => p.Iterations));
        var batch = CliOptions.Batch($"Fresh target samples per step [default: {DefaultsPerTarget(p => p.BatchSize)}]");
        var seed = CliOptions.Seed("Seed of the initial weights and of the training samples; evaluation uses seed + 1");
        var evalSamples = new Option<long>("--eval-samples")
        {
            Description = "Fresh target samples for the test NLL and the KL divergence",
            DefaultValueFactory = _ => DemoPreset.DefaultEvalSamples,
            HelpName = "count",
            CustomParser = result => CliOptions.ParsePositive(result, long.MaxValue) ?? 0,
        };
        var gridSteps = new Option<int?>("--grid-steps")
        {
            Description = "Points per axis of every grid the learned density is evaluated on: the grid integral of q, the p / q / q - p and marginal " +
                $"pictures and the training snapshots. Smaller is faster, above all for continuous flows, whose every point is an ODE solve " +
                $"[default: {DemoSettings.DefaultIntegralSteps} for the integral and the marginals, {DemoSettings.DefaultDensitySteps} for the density picture, " +
                $"{DemoSettings.DefaultSnapshotSteps} for the snapshots]",
            HelpName = "count",
            CustomParser = result => (int?)CliOptions.ParsePositive(result, DemoSettings.MaximumGridSteps),
        };

        var command = new Command("demo",
            "Reproduce a source tutorial: train its flow on its target, then write metrics.json, losses.csv, model.nflow, the figures " +
            "(target, p / q / q - p, loss, q during training, marginals, samples, the path through every layer, animated) and report.html. " +
            "uniform-normal: 16 x [affine coupling + LU linear], Adam, learning rate 1e-3, weight decay 1e-5. " +
            "banana: RealNVP with 8 couplings, Adam, learning rate 1e-3. " +
            "leaky-coupling: 9 x [learnable leaky ReLU + tanh-bounded coupling], AdamW, learning rate 3e-3 annealed to 1 % (cosine), weight decay 1e-4, batches of 2048. " +
            "Metrics: test NLL and KL(p||q) in nats on fresh samples, the grid integral of q, timings.")
        {
            target,
            flow,
            output,
            iterations,
            batch,
            seed,
            evalSamples,
            gridSteps,
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
            string command = CommandLineText.Of(parseResult);
            var outDirectory = parseResult.GetValue(output)?.FullName;
            if (targetName is null)
            {
                // No name: the three source tutorials, one after the other (each in its own folder).
                int result = ExitCodes.Ok;
                foreach (var tutorial in DemoPreset.Tutorials)
                {
                    var chosen = flowName is null ? tutorial : tutorial.WithFlow(FlowCatalog.Get(flowName));
                    var one = new DemoSettings(chosen, parseResult.GetValue(iterations) ?? chosen.Iterations, parseResult.GetValue(batch) ?? chosen.BatchSize,
                        parseResult.GetValue(seed), parseResult.GetValue(evalSamples), outDirectory is null ? null : Path.Combine(outDirectory, chosen.Name), command,
                        parseResult.GetValue(gridSteps));
                    result = DemoRunner.Run(one, context, cancellationToken);
                    if (result != ExitCodes.Ok) return Task.FromResult(result);
                }
                return Task.FromResult(result);
            }
            if (targetName == DigitsDemo.Name)
                return Task.FromResult(DigitsDemo.Run(parseResult.GetValue(iterations) ?? DigitsDemo.DefaultIterations, parseResult.GetValue(batch) ?? DigitsDemo.DefaultBatchSize, parseResult.GetValue(seed),
                    outDirectory, command, context, cancellationToken));
            var preset = DemoPreset.Find(targetName)!;
            if (flowName is not null) preset = preset.WithFlow(FlowCatalog.Get(flowName));
            var settings = new DemoSettings(
                preset,
                parseResult.GetValue(iterations) ?? preset.Iterations,
                parseResult.GetValue(batch) ?? preset.BatchSize,
                parseResult.GetValue(seed),
                parseResult.GetValue(evalSamples),
                outDirectory,
                command,
                parseResult.GetValue(gridSteps));
            // Runs synchronously on the calling thread (TorchSharp's dispose scopes are thread-local).
            return Task.FromResult(DemoRunner.Run(settings, context, cancellationToken));
        });
        return command;
    }

    private static string DefaultsPerTarget(Func<DemoPreset, int> value)
    {
        var values = DemoPreset.All.Select(value).Distinct().ToArray();
        return values.Length == 1
            ? values[0].ToString(CultureInfo.InvariantCulture)
            : string.Join(", ", DemoPreset.All.Select(p => $"{value(p).ToString(CultureInfo.InvariantCulture)} for {p.Name}"));
    }
}
