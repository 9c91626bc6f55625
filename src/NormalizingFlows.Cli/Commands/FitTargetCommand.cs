using System.CommandLine;
using System.CommandLine.Completions;
using System.Linq;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Output;
using NormalizingFlows.Cli.Variational;
using NormalizingFlows.Targets;

namespace NormalizingFlows.Cli.Commands;

/// <summary>
/// <c>nflows fit-target --target NAME</c>: variational inference: fits a flow to a target's (possibly unnormalised)
/// log-density by reverse KL, without samples of the target, then reports effective sample size and log Z.
/// </summary>
internal static class FitTargetCommand
{
    /// <summary>Example command lines shown in <c>nflows fit-target --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows fit-target --target banana",
        "nflows fit-target --target two-modes --anneal 1000 --path-derivative",
        "nflows fit-target --target two-modes --flow planar --layers 32 --iterations 5000",
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var target = new Option<string>("--target", "-t")
        {
            Description = $"The target density: {string.Join(", ", TargetCatalog.Names)}",
            DefaultValueFactory = _ => "banana",
            HelpName = "name",
        };
        target.CompletionSources.Add(_ => TargetCatalog.Names.Select(n => new CompletionItem(n)));
        target.Validators.Add(result =>
        {
            string name = result.GetValueOrDefault<string>();
            if (!TargetCatalog.Names.Contains(name)) result.AddError($"Unknown --target '{name}'. Known targets: {string.Join(", ", TargetCatalog.Names)}.");
            else if (TargetCatalog.Create(name).Features != 2) result.AddError($"fit-target needs a 2-D target; {name} is not.");
        });
        var flow = CliOptions.Flow("The catalogue flow to fit (flows without an inverse, planar and radial, work here) [default: real-nvp]", needsDensity: false, allowList: false);
        var layers = CliOptions.Layers();
        var hidden = CliOptions.Hidden();
        var iterations = CliOptions.Iterations("3000");
        var batch = CliOptions.Batch("Samples of the flow per step [default: 256]");
        var learningRate = CliOptions.LearningRate("1e-3, cosine-annealed to 1e-5");
        var anneal = new Option<int>("--anneal")
        {
            Description = "Steps over which beta rises linearly from --initial-beta to 1 (the loss is log q - beta log p); 0 for none",
            DefaultValueFactory = _ => 0,
            HelpName = "steps",
            CustomParser = result => result.Tokens.Count == 0 ? 0 : (int)(CliOptions.ParsePositive(result, int.MaxValue) ?? 0),
        };
        var initialBeta = new Option<double>("--initial-beta")
        {
            Description = "Starting beta of the annealing, in (0, 1]",
            DefaultValueFactory = _ => 0.2,
            HelpName = "beta",
            CustomParser = result =>
            {
                var value = CliOptions.ParsePositiveDouble(result);
                if (value > 1) result.AddError($"--initial-beta must be at most 1; got {value}.");
                return value ?? 0.2;
            },
        };
        var pathDerivative = new Option<bool>("--path-derivative") { Description = "Use the path-derivative ('sticking the landing') gradient; needs a flow with an inverse" };
        var seed = CliOptions.Seed("Seed of the initial weights and of the flow's samples; the diagnostics use seed + 1");
        var evalSamples = new Option<long>("--eval-samples")
        {
            Description = "Samples of the flow for the effective sample size and log Z",
            DefaultValueFactory = _ => 100_000,
            HelpName = "count",
            CustomParser = result => CliOptions.ParsePositive(result, long.MaxValue) ?? 0,
        };
        var output = CliOptions.OutDirectory("Folder for metrics.json, losses.csv and the model [default: ./runs/fit-<target>-<yyyyMMdd-HHmmss>]");

        var command = new Command("fit-target",
            "Fit a flow to a target density without samples (reverse KL, variational inference), then report the effective sample " +
            "size and log Z by importance sampling, and KL(p||q) when the target is normalised. Writes metrics.json, losses.csv and the model.")
        {
            target, flow, layers, hidden, iterations, batch, learningRate, anneal, initialBeta, pathDerivative, seed, evalSamples, output,
        };
        command.Validators.Add(result =>
        {
            string? name = result.GetValue(flow);
            if (name is not null && CliOptions.FindFlow(name) is { Training: FlowTraining.FlowMatching } matched)
                result.AddError($"--flow {matched.Name} is trained by flow matching, which needs samples; fit-target has only a density: use --flow cnf (maximum likelihood through the solver).");
            if (name is not null && result.GetValue(pathDerivative) && CliOptions.FindFlow(name) is { HasDensity: false } preset)
                result.AddError($"--path-derivative evaluates log q at the samples, which needs an inverse; --flow {preset.Name} has none.");
        });
        CliHelp.SetExamples(command, Examples);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var settings = new FitTargetSettings(
                parseResult.GetValue(target)!,
                CliOptions.FindFlow(parseResult.GetValue(flow) ?? "real-nvp")!.Name,
                parseResult.GetValue(layers),
                CliOptions.GetHidden(parseResult, hidden),
                parseResult.GetValue(iterations) ?? 3000,
                parseResult.GetValue(batch) ?? 256,
                parseResult.GetValue(learningRate) ?? 1e-3,
                parseResult.GetValue(anneal),
                parseResult.GetValue(initialBeta),
                parseResult.GetValue(pathDerivative),
                parseResult.GetValue(seed),
                parseResult.GetValue(evalSamples),
                parseResult.GetValue(output)?.FullName,
                CommandLineText.Of(parseResult));
            return Task.FromResult(FitTargetRunner.Run(settings, context, cancellationToken));
        });
        return command;
    }
}
