using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Inference;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Output;
using NormalizingFlows.Cli.Rendering;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Serialization;
using TorchSharp;

namespace NormalizingFlows.Cli.Commands;

/// <summary><c>nflows eval --model M --data FILE</c>: mean negative log-likelihood and bits per dimension of a data file, with the
/// scale of the bits/dim, what the density is of (dequantised data for a model trained with <c>--dequantize uniform</c>) and
/// what the model's training did (from its metadata).</summary>
internal static class EvalCommand
{
    /// <summary>Example command lines shown in <c>nflows eval --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows eval --model runs/mine/model.nflow --data test.csv",
        "nflows eval --model runs/counts/model.nflow --data test.csv --seed 1 --metrics runs/counts/test-metrics.json",
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var model = ModelInput.Option();
        var data = new Option<FileInfo>("--data", "-d") { Description = "Rows to evaluate (same columns as the training data)", HelpName = "file", Required = true };
        var device = CliOptions.Device();
        var seed = CliOptions.Seed("For a model trained with --dequantize uniform: seed of the noise added to its integer columns (one draw per value)");
        var metrics = new Option<FileInfo?>("--metrics") { Description = "Also write the figures as JSON to this file", HelpName = "file" };
        var limits = InputLimitOptions.ForDataAndModel();
        var command = new Command("eval",
            "Print the mean negative log-likelihood (nats per row) and bits per dimension (with its scale) of a data file under a trained model. " +
            "A model trained with --dequantize uniform is scored on the data dequantised the same way (its integer columns + U[0, 1)): " +
            "the NLL of the dequantised data, an upper bound on the discrete data's NLL.")
        {
            model, data, device, seed, metrics,
        };
        foreach (var option in limits.All) command.Options.Add(option);
        CliHelp.SetExamples(command, Examples);
        command.SetAction((parseResult, cancellationToken) =>
        {
            string modelPath = parseResult.GetValue(model)!.FullName, dataPath = parseResult.GetValue(data)!.FullName;
            try
            {
                using var scope = torch.NewDisposeScope();
                var dev = Runtime.DeviceChoice.Resolve(parseResult.GetValue(device)!);
                var inputLimits = limits.Read(parseResult);
                var (loaded, _) = ModelInput.Load(modelPath, dev, inputLimits);
                using var flow = loaded;
                var metadata = ModelFile.ReadMetadata(modelPath);
                var (rows, _) = DataInput.Read(dataPath, torch.ScalarType.Float64, inputLimits);
                DataInput.RequireWidth(dataPath, rows, flow);
                long dims = rows.size(1);
                var dequantized = metadata?["dequantized_columns"] is JsonArray list ? list.Select(c => c!.GetValue<int>()).ToArray() : Array.Empty<int>();
                string scale = metadata?["bits_per_dim_scale"]?.GetValue<string>() ?? BitsPerDimScale.Continuous;
                long seedValue = parseResult.GetValue(seed);
                if (dequantized.Length > 0)
                {
                    using var generator = new torch.Generator(unchecked((ulong)seedValue));
                    rows = DiscreteColumns.Dequantize(rows, dequantized, generator);
                }
                // Exact where ExactEvaluation affords it; otherwise the mean of repeated estimates and its standard error.
                if (LogProbs.Evaluate(flow, rows, dev, Metrics.DefaultRepeats, cancellationToken) is not { } result)
                    return Task.FromResult(ExitCodes.Interrupted);
                var estimate = result.IsExact
                    ? new MetricEstimate(-result.MeanPerEvaluation[0], 0, true, 1)
                    : MetricEstimate.FromRepeats(result.MeanPerEvaluation.Select(m => -m).ToArray());
                double nll = estimate.Value;
                // item<T> on a CPU copy: TorchSharp's ToDouble()/ToInt64() read through a temporary Scalar (build/BannedSymbols.txt).
                long zero = result.LogProb.isinf().sum().item<long>();
                if (!result.IsExact) context.Output.WriteLine($"note: {result.EstimateNote}");
                // The standard error of bits/dim: that of the NLL / (D ln 2) on every scale (the 8-bit scale only adds a constant).
                double bitsScale = scale == BitsPerDimScale.None ? double.NaN : 1 / (dims * Math.Log(2));
                string bitsSe = result.IsExact || !double.IsFinite(bitsScale) ? "" :
                    " +- " + (estimate.StandardError * bitsScale).ToString("F4", CultureInfo.InvariantCulture);
                var fit = metadata?["fit"] as JsonObject;
                string Fact(string key) => fit?[key]?.ToJsonString() ?? "unknown";
                string densityOf = dequantized.Length > 0
                    ? $"dequantised data: {dequantized.Length} integer columns + U[0, 1), one draw per value (seed {seedValue.ToString(CultureInfo.InvariantCulture)}); an upper bound on the discrete NLL"
                    : scale == BitsPerDimScale.EightBit ? "the values as given (the model was trained on pixels (level + u) / 256)" : "the data as given";
                KeyValueTable.Write(context.CreateConsole(), new[]
                {
                    ("rows", rows.size(0).ToString(CultureInfo.InvariantCulture)),
                    ("NLL (nats per row)", estimate.Format("F4")),
                    ("bits/dim", BitsPerDimScale.Text(scale, nll, dims) + bitsSe),
                    ("log-density", result.IsExact ? "exact" : string.Create(CultureInfo.InvariantCulture, $"stochastic estimate, mean of {result.Evaluations} evaluations")),
                    ("bits/dim scale", BitsPerDimScale.Describe(scale)),
                    ("density of", densityOf),
                    ("rows with zero density", zero.ToString(CultureInfo.InvariantCulture)),
                    ("model's training", fit is null ? "unknown (no record in the model file)"
                        : $"{Fact("completed_steps")} steps, {Fact("skipped_steps")} skipped; {Fact("training_rows")} training / {Fact("validation_rows")} validation rows; " +
                          $"restored step {(fit["restored_best"]?.GetValue<bool>() == true ? Fact("best_step") : "none")}"),
                });
                if (parseResult.GetValue(metrics) is { } metricsFile)
                {
                    RunFiles.WriteJson(metricsFile.FullName, new JsonObject
                    {
                        ["model"] = modelPath,
                        ["data"] = dataPath,
                        ["rows"] = rows.size(0),
                        ["columns"] = dims,
                        ["nll"] = Finite(nll),
                        ["nll_standard_error"] = estimate.StandardError,
                        ["exact"] = result.IsExact,
                        ["eval_repeats"] = result.Evaluations,
                        ["bits_per_dim"] = Finite(BitsPerDimScale.Value(scale, nll, dims)),
                        ["bits_per_dim_scale"] = scale,
                        ["dequantize"] = dequantized.Length > 0 ? "uniform" : "none",
                        ["dequantized_columns"] = new JsonArray(dequantized.Select(c => (JsonNode?)c).ToArray()),
                        ["dequantize_seed"] = dequantized.Length > 0 ? seedValue : null,
                        ["rows_with_zero_density"] = zero,
                        ["model_fit"] = fit?.DeepClone(),
                    });
                }
                return Task.FromResult(ExitCodes.Ok);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                context.Error.WriteLine($"error: eval failed: {e.Message}");
                return Task.FromResult(ExitCodes.Failure);
            }
        });
        return command;
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
