using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Inference;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Cli.Rendering;
using NormalizingFlows.Cli.Runtime;
using NormalizingFlows.Diagnostics;
using TorchSharp;

namespace NormalizingFlows.Cli.Commands;

/// <summary><c>nflows eval --model M --data FILE</c>: mean negative log-likelihood and bits per dimension of a data file.</summary>
internal static class EvalCommand
{
    /// <summary>Example command lines shown in <c>nflows eval --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows eval --model runs/mine/model.nflow --data test.csv",
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var model = ModelInput.Option();
        var data = new Option<FileInfo>("--data", "-d") { Description = "Rows to evaluate (same columns as the training data)", HelpName = "file", Required = true };
        var device = CliOptions.Device();
        var command = new Command("eval", "Print the mean negative log-likelihood (nats per row) and bits per dimension of a data file under a trained model.")
        {
            model, data, device,
        };
        CliHelp.SetExamples(command, Examples);
        command.SetAction((parseResult, cancellationToken) =>
        {
            string modelPath = parseResult.GetValue(model)!.FullName, dataPath = parseResult.GetValue(data)!.FullName;
            try
            {
                using var scope = torch.NewDisposeScope();
                if (LogProbs.OfFile(modelPath, dataPath, parseResult.GetValue(device)!, cancellationToken) is not { } result)
                    return Task.FromResult(ExitCodes.Interrupted);
                long rows = result.Rows, dims = result.Columns;
                // An estimate: the NLL of each evaluation, their mean and its standard error; exact: the one evaluation.
                var nll = result.IsExact
                    ? new MetricEstimate(-result.MeanPerEvaluation[0], 0, true, 1)
                    : MetricEstimate.FromRepeats(result.MeanPerEvaluation.Select(m => -m).ToArray());
                double scale = Metrics.BitsPerDimension(1, dims);
                var bits = nll with { Value = nll.Value * scale, StandardError = nll.StandardError * scale };
                // item<T> on a CPU copy: TorchSharp's ToDouble()/ToInt64() read through a temporary Scalar (build/BannedSymbols.txt).
                long zero = result.LogProb.isinf().sum().cpu().item<long>();
                if (!result.IsExact) context.Output.WriteLine($"note: {result.EstimateNote}");
                KeyValueTable.Write(context.CreateConsole(), new[]
                {
                    ("rows", rows.ToString(CultureInfo.InvariantCulture)),
                    ("NLL (nats per row)", nll.Format("F4")),
                    ("bits/dim", bits.Format("F4")),
                    ("log-density", result.IsExact ? "exact" : string.Create(CultureInfo.InvariantCulture, $"stochastic estimate, mean of {result.Evaluations} evaluations")),
                    ("rows with zero density", zero.ToString(CultureInfo.InvariantCulture)),
                });
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
}
