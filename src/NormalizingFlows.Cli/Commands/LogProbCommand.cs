using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Inference;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Runtime;
using NormalizingFlows.Data;
using NormalizingFlows.Diagnostics;
using TorchSharp;

namespace NormalizingFlows.Cli.Commands;

/// <summary><c>nflows logprob --model M --data FILE --out FILE.csv</c>: the log-density of every row, in the data's own units; exact
/// wherever <see cref="ExactEvaluation"/> affords it, otherwise the mean of several evaluations of the estimate with each row's
/// standard error.</summary>
internal static class LogProbCommand
{
    /// <summary>Example command lines shown in <c>nflows logprob --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows logprob --model runs/mine/model.nflow --data test.csv --out logprob.csv",
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var model = ModelInput.Option();
        var data = new Option<FileInfo>("--data", "-d") { Description = "Rows to evaluate (same columns as the training data)", HelpName = "file", Required = true };
        var device = CliOptions.Device();
        var output = new Option<FileInfo>("--out", "-o") { Description = "The CSV file to write: one column log_prob, one row per input row (and log_prob_se, the standard error, where the log-density is a stochastic estimate)", HelpName = "file", Required = true };
        var limits = InputLimitOptions.ForDataAndModel();
        var command = new Command("logprob", "Write the log-density (nats) of every row of a data file under a trained model.") { model, data, device, output };
        foreach (var option in limits.All) command.Options.Add(option);
        command.Validators.Add(result =>
        {
            if (result.GetValue(output) is not { } outFile) return;
            if (result.GetValue(data) is { } dataFile && SamePath.Of(outFile.FullName, dataFile.FullName))
                result.AddError(SamePath.OverwriteError("--out", "--data", outFile.FullName));
            if (result.GetValue(model) is { } modelFile && SamePath.Of(outFile.FullName, modelFile.FullName))
                result.AddError(SamePath.OverwriteError("--out", "--model", outFile.FullName));
        });
        CliHelp.SetExamples(command, Examples);
        command.SetAction((parseResult, cancellationToken) =>
        {
            string modelPath = parseResult.GetValue(model)!.FullName, dataPath = parseResult.GetValue(data)!.FullName, outPath = parseResult.GetValue(output)!.FullName;
            try
            {
                using var scope = torch.NewDisposeScope();
                if (LogProbs.OfFile(modelPath, dataPath, parseResult.GetValue(device)!, limits.Read(parseResult), cancellationToken) is not { } result)
                    return Task.FromResult(ExitCodes.Interrupted);
                if (result.StandardError is { } standardError)
                {
                    // An estimate: the mean of several evaluations and each row's standard error, in a second column.
                    TabularFile.Write(outPath, torch.stack(new[] { result.LogProb, standardError }, 1), new[] { "log_prob", "log_prob_se" });
                    var mean = MetricEstimate.FromRepeats(result.MeanPerEvaluation.ToArray());
                    context.Output.WriteLine($"note: {result.EstimateNote}; column log_prob_se holds each row's standard error");
                    context.Output.WriteLine($"mean log-density: {mean.Format("F4")} nats per row");
                }
                else
                {
                    TabularFile.Write(outPath, result.LogProb.unsqueeze(1), new[] { "log_prob" });
                }
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {result.Rows} {(result.IsExact ? "exact" : "estimated")} log-densities to {outPath}"));
                // A model trained with --dequantize uniform is a density of k + u: at the given values it is the density at each cell's corner.
                if (NormalizingFlows.Serialization.ModelFile.ReadMetadata(modelPath)?["dequantize"]?.GetValue<string>() == "uniform")
                    context.Error.WriteLine("note: the model was trained on dequantised data (integer columns + U[0, 1)); these are its densities at the values " +
                                            "as given, not probabilities of the integer levels. For the dequantised NLL use nflows eval, which adds the noise.");
                return Task.FromResult(ExitCodes.Ok);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                context.Error.WriteLine($"error: logprob failed: {e.Message}");
                return Task.FromResult(ExitCodes.Failure);
            }
        });
        return command;
    }
}
