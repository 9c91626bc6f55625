using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Inference;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Runtime;
using NormalizingFlows.Data;
using NormalizingFlows.Images;
using TorchSharp;

namespace NormalizingFlows.Cli.Commands;

/// <summary><c>nflows sample --model M --count N --out FILE.csv</c>: draws samples from a trained model into a CSV file.</summary>
internal static class SampleCommand
{
    /// <summary>Example command lines shown in <c>nflows sample --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows sample --model runs/mine/model.nflow --count 10000 --out samples.csv",
        "nflows sample -m runs/mine/model.nflow -n 500 --temperature 0.7 --seed 3 -o cooler.csv",
    };

    /// <summary>Rows drawn per chunk (bounded memory for large counts).</summary>
    private const long Chunk = 65_536;

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var model = ModelInput.Option();
        var count = new Option<long>("--count", "-n")
        {
            Description = "Number of samples",
            DefaultValueFactory = _ => 1000,
            HelpName = "count",
            CustomParser = result => CliOptions.ParsePositive(result, 100_000_000) ?? 0,
        };
        var temperature = new Option<double>("--temperature")
        {
            Description = "Scale the standard-normal base by this factor (below 1: samples nearer the modes)",
            DefaultValueFactory = _ => 1.0,
            HelpName = "t",
            CustomParser = result => CliOptions.ParsePositiveDouble(result) ?? 1.0,
        };
        var seed = CliOptions.Seed("Seed of the draws");
        var device = CliOptions.Device();
        var output = new Option<FileInfo>("--out", "-o") { Description = "The CSV file to write (header from the model's column names)", HelpName = "file", Required = true };
        var failOnNonFinite = new Option<bool>("--fail-on-nonfinite")
        {
            Description = "Fail (exit code 1, no file written) when any sample has a NaN or infinite value; by default such rows are written and counted in a warning",
        };
        var command = new Command("sample",
            "Draw samples from a trained model and write them as CSV, one row per sample. Rows with NaN or infinite values (a model that " +
            "overflows somewhere) are counted and reported.")
        {
            model, count, temperature, seed, device, output, failOnNonFinite,
        };
        var limits = InputLimitOptions.ForModel();
        foreach (var option in limits.All) command.Options.Add(option);
        command.Validators.Add(result =>
        {
            if (result.GetValue(output) is { } outFile && result.GetValue(model) is { } modelFile && SamePath.Of(outFile.FullName, modelFile.FullName))
                result.AddError(SamePath.OverwriteError("--out", "--model", outFile.FullName));
        });
        CliHelp.SetExamples(command, Examples);
        command.SetAction((parseResult, cancellationToken) =>
        {
            string modelPath = parseResult.GetValue(model)!.FullName;
            string outPath = parseResult.GetValue(output)!.FullName;
            try
            {
                var (distribution, columns) = ModelInput.Load(modelPath, DeviceChoice.Resolve(parseResult.GetValue(device)!), limits.Read(parseResult));
                using var loaded = distribution;
                if (loaded.ContextFeatures != 0) throw new InvalidOperationException($"{modelPath} is a conditional model; sampling it needs contexts, which this command does not take.");
                double t = parseResult.GetValue(temperature);
                if (t != 1.0 && loaded is not Flow) throw new InvalidOperationException("--temperature needs a flow model.");
                long total = parseResult.GetValue(count);
                using var generator = new torch.Generator((ulong)parseResult.GetValue(seed));
                using var scope = torch.NewDisposeScope();
                var parts = new System.Collections.Generic.List<torch.Tensor>();
                for (long done = 0; done < total && !cancellationToken.IsCancellationRequested; done += Chunk)
                {
                    long n = Math.Min(Chunk, total - done);
                    var part = t == 1.0 ? loaded.Sample(n, generator: generator) : ImageSampling.Sample((Flow)loaded, n, t, generator);
                    parts.Add(part.reshape(n, -1).cpu());
                }
                if (cancellationToken.IsCancellationRequested) return Task.FromResult(ExitCodes.Interrupted);
                var samples = torch.cat(parts.ToArray(), 0);
                long nonFinite = NonFiniteRows(samples);
                if (nonFinite > 0)
                {
                    string what = string.Create(CultureInfo.InvariantCulture,
                        $"{nonFinite} of {total} samples ({100.0 * nonFinite / total:0.###} %) have NaN or infinite values");
                    if (parseResult.GetValue(failOnNonFinite))
                    {
                        context.Error.WriteLine($"error: sample failed: {what} (--fail-on-nonfinite); nothing was written.");
                        return Task.FromResult(ExitCodes.Failure);
                    }
                    context.Error.WriteLine($"warning: {what}; they are written as NaN/Infinity (--fail-on-nonfinite makes this an error).");
                }
                TabularFile.Write(outPath, samples, columns);
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {total} samples x {samples.size(1)} columns to {outPath}{(nonFinite > 0 ? $" ({nonFinite} with NaN or infinite values)" : "")}"));
                return Task.FromResult(ExitCodes.Ok);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                context.Error.WriteLine($"error: sample failed: {e.Message}");
                return Task.FromResult(ExitCodes.Failure);
            }
        });
        return command;
    }

    /// <summary>The number of rows of <paramref name="samples"/> with at least one NaN or infinite value.</summary>
    internal static long NonFiniteRows(torch.Tensor samples)
    {
        using var scope = torch.NewDisposeScope();
        return NormalizingFlows.Internal.TensorValues.ToInt64(samples.isfinite().all(1).logical_not().sum());
    }
}
