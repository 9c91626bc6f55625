using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
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
                var (logProb, rows, dims) = LogProbs.OfFile(modelPath, dataPath, parseResult.GetValue(device)!, cancellationToken);
                if (logProb is null) return Task.FromResult(ExitCodes.Interrupted);
                // item<T> on a CPU copy: TorchSharp's ToDouble()/ToInt64() read through a temporary Scalar (build/BannedSymbols.txt).
                double nll = -logProb.mean().to(torch.ScalarType.Float64).cpu().item<double>();
                long zero = logProb.isinf().sum().cpu().item<long>();
                string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
                KeyValueTable.Write(context.CreateConsole(), new[]
                {
                    ("rows", rows.ToString(CultureInfo.InvariantCulture)),
                    ("NLL", $"{F(nll)} nats per row"),
                    ("bits/dim", F(Metrics.BitsPerDimension(nll, dims))),
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
