using System.CommandLine;
using System.IO;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Fitting;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Output;

namespace NormalizingFlows.Cli.Commands;

/// <summary>
/// <c>nflows train --data FILE</c>: fits a catalogue flow to the rows of a CSV, whitespace-separated or .npy file by maximum
/// likelihood, with a validation split, early stopping and optional checkpoints; writes the model, metrics.json, losses.csv and report.html.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Example command lines shown in <c>nflows train --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows train --data data.csv --out runs/mine",
        "nflows train --data measurements.txt.gz --flow maf --epochs 200 --val-fraction 0.2 --patience 20",
        "nflows train --npy features.npy --flow nsf-coupling --checkpoint-every 500 --out runs/nsf",
        "nflows train --data data.csv --out runs/mine --resume runs/mine/checkpoint.nflow",
        "nflows train --images photos/ --patch 8 --patches 50000 --flow maf --out runs/patches",
        "nflows train --data counts.csv --dequantize uniform --flow maf --out runs/counts",
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var data = new Option<FileInfo?>("--data", "-d") { Description = "Training rows: CSV (header optional) or whitespace-separated text, optionally .gz; or a .npy array", HelpName = "file" };
        var npy = new Option<FileInfo?>("--npy") { Description = "Training rows from a NumPy .npy array [rows, features] (more dimensions are flattened per row)", HelpName = "file" };
        var images = new Option<FileInfo?>("--images") { Description = "Train on grey patches cut from the PNG/JPEG images of this folder (or this one image)", HelpName = "dir-or-file" };
        var patch = new Option<int>("--patch")
        {
            Description = "With --images: side of a square patch in pixels",
            DefaultValueFactory = _ => 8,
            HelpName = "pixels",
            CustomParser = result => result.Tokens.Count == 0 ? 8 : (int)(CliOptions.ParsePositive(result, 256) ?? 8),
        };
        var patches = new Option<int>("--patches")
        {
            Description = "With --images: number of patches, spread evenly over the images (seeded positions; dequantised as (level + u) / 256)",
            DefaultValueFactory = _ => 20_000,
            HelpName = "count",
            CustomParser = result => result.Tokens.Count == 0 ? 20_000 : (int)(CliOptions.ParsePositive(result, 10_000_000) ?? 20_000),
        };
        var flow = CliOptions.Flow("The catalogue flow to fit [default: real-nvp]", needsDensity: true, allowList: false);
        var layers = CliOptions.Layers();
        var hidden = CliOptions.Hidden();
        var epochs = new Option<int?>("--epochs", "-e")
        {
            Description = "Passes over the training rows [default: 100]",
            HelpName = "count",
            CustomParser = result => CliOptions.ParsePositive(result, 1_000_000) is { } value ? (int)value : null,
        };
        var batch = CliOptions.Batch("Rows per step [default: 256]");
        var learningRate = CliOptions.LearningRate("1e-3");
        var constant = new Option<bool>("--constant-lr") { Description = "Keep the learning rate constant instead of cosine-annealing it to 1 %" };
        var warmup = new Option<int>("--warmup")
        {
            Description = "Steps of linear learning-rate warm-up",
            DefaultValueFactory = _ => 0,
            HelpName = "steps",
            CustomParser = result => result.Tokens.Count == 0 ? 0 : (int)(CliOptions.ParsePositive(result, int.MaxValue) ?? 0),
        };
        var clip = new Option<double?>("--clip") { Description = "Largest gradient norm (larger gradients are scaled down); none by default", HelpName = "norm", CustomParser = CliOptions.ParsePositiveDouble };
        var validation = new Option<double>("--val-fraction")
        {
            Description = "Fraction of rows held out for the validation loss and early stopping (0 for none)",
            DefaultValueFactory = _ => 0.1,
            HelpName = "fraction",
            CustomParser = result => CliOptions.ParseFraction(result) ?? 0.1,
        };
        var patience = new Option<int?>("--patience")
        {
            Description = "Stop after this many epochs without a better validation loss, keeping the best model [default: 10]",
            HelpName = "epochs",
            CustomParser = result => CliOptions.ParsePositive(result, int.MaxValue) is { } value ? (int)value : null,
        };
        var dequantize = new Option<string>("--dequantize")
        {
            Description = "uniform: add fresh noise u ~ U[0, 1) to every integer-valued column at every step (counts, levels, indicators), " +
                          "so that the flow fits a density of the dequantised data instead of spikes on repeated values; none: use the values as they are",
            DefaultValueFactory = _ => "none",
            HelpName = "none|uniform",
        };
        dequantize.AcceptOnlyFromAmong("none", "uniform");
        var noStandardize = new Option<bool>("--no-standardize") { Description = "Do not standardise the columns (by default their mean and scale are learned from the file and kept in the model)" };
        var seed = CliOptions.Seed("Seed of the initial weights, the validation split and the minibatch order");
        var device = CliOptions.Device();
        var dtype = CliOptions.Dtype();
        var checkpointEvery = new Option<int?>("--checkpoint-every")
        {
            Description = "Write checkpoint.nflow in the output folder every this many steps (and when stopped)",
            HelpName = "steps",
            CustomParser = result => CliOptions.ParsePositive(result, int.MaxValue) is { } value ? (int)value : null,
        };
        var resume = new Option<FileInfo?>("--resume") { Description = "Continue the run saved in this checkpoint (same data and options)", HelpName = "checkpoint" };
        var output = CliOptions.OutDirectory("Folder for model.nflow, metrics.json, losses.csv, the figures and report.html [default: ./runs/train-<file>-<yyyyMMdd-HHmmss>]");

        var command = new Command("train",
            "Fit a flow to the rows of a data file by maximum likelihood (shuffled minibatches, Adam, cosine learning rate, validation " +
            "split with early stopping that keeps the best model), then write model.nflow (architecture and weights; load it with " +
            "Flow.Load or the sample, logprob and eval commands), metrics.json, losses.csv and report.html with its figures (the loss " +
            "curve; for two columns the learned density and flow samples over the data, for more, samples over the data on pairs of columns).")
        {
            data, npy, images, patch, patches, flow, layers, hidden, epochs, batch, learningRate, constant, warmup, clip, validation, patience, dequantize,
            noStandardize, seed, device, dtype, checkpointEvery, resume, output,
        };
        var limits = InputLimitOptions.ForData();
        foreach (var option in limits.All) command.Options.Add(option);
        command.Validators.Add(result =>
        {
            int inputs = (result.GetValue(data) is null ? 0 : 1) + (result.GetValue(npy) is null ? 0 : 1) + (result.GetValue(images) is null ? 0 : 1);
            if (inputs != 1) result.AddError("train needs exactly one of --data FILE, --npy FILE or --images DIR.");
            if (result.GetValue(npy) is { } file && !file.Name.EndsWith(".npy", System.StringComparison.OrdinalIgnoreCase))
                result.AddError($"--npy expects a .npy file; got '{file.Name}'.");
            if (result.GetValue(images) is not null && result.GetValue(dequantize) == "uniform")
                result.AddError("--dequantize uniform is for tables of integer-valued columns; --images patches are already dequantised as (level + u) / 256.");
            // Only an explicit --val-fraction 0 conflicts: in a command validator GetValue of an option left out reads 0 (default(T)),
            // not its default of 0.1, which refused --patience on its own.
            if (result.GetValue(patience) is not null && result.GetResult(validation) is { Implicit: false } && result.GetValue(validation) == 0)
                result.AddError("--patience needs a validation split: set --val-fraction above 0.");
            // A data file inside the output folder under the name of a file the run writes would be overwritten.
            if (result.GetValue(output) is { } outFolder && (result.GetValue(data) ?? result.GetValue(npy)) is { } input)
            {
                foreach (string name in TrainRunner.OutputFileNames)
                {
                    string written = System.IO.Path.Combine(outFolder.FullName, name);
                    if (SamePath.Of(written, input.FullName))
                        result.AddError($"--out {outFolder.FullName} would overwrite the training data: the run writes {written}. Choose another --out.");
                }
            }
        });
        CliHelp.SetExamples(command, Examples);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var file = parseResult.GetValue(data) ?? parseResult.GetValue(npy) ?? parseResult.GetValue(images)!;
            var imagePatches = parseResult.GetValue(images) is null ? null : new PatchSettings(parseResult.GetValue(patch), parseResult.GetValue(patches));
            double fraction = parseResult.GetValue(validation);
            var settings = new TrainSettings(
                file.FullName,
                CliOptions.FindFlow(parseResult.GetValue(flow) ?? "real-nvp")!.Name,
                parseResult.GetValue(layers),
                CliOptions.GetHidden(parseResult, hidden),
                parseResult.GetValue(epochs) ?? 100,
                parseResult.GetValue(batch) ?? 256,
                parseResult.GetValue(learningRate) ?? 1e-3,
                !parseResult.GetValue(constant),
                parseResult.GetValue(warmup),
                parseResult.GetValue(clip),
                fraction,
                fraction > 0 ? parseResult.GetValue(patience) ?? 10 : null,
                !parseResult.GetValue(noStandardize),
                parseResult.GetValue(seed),
                parseResult.GetValue(device)!,
                parseResult.GetValue(dtype)!,
                parseResult.GetValue(checkpointEvery),
                parseResult.GetValue(resume)?.FullName,
                parseResult.GetValue(output)?.FullName,
                CommandLineText.Of(parseResult))
            {
                Patches = imagePatches,
                Dequantize = parseResult.GetValue(dequantize) == "uniform",
                Limits = limits.Read(parseResult),
            };
            return Task.FromResult(TrainRunner.Run(settings, context, cancellationToken));
        });
        return command;
    }
}
