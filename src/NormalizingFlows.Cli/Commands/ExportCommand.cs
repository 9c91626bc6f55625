using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NormalizingFlows.Cli.Help;
using NormalizingFlows.Cli.Options;
using NormalizingFlows.Onnx;
using NormalizingFlows.Serialization;
using TorchSharp;

namespace NormalizingFlows.Cli.Commands;

/// <summary><c>nflows export MODEL.nflow --onnx OUT.onnx [--graphs ...] [--float64]</c>: writes a trained flow as an ONNX model
/// (see <see cref="FlowOnnxExtensions.ExportOnnx"/>) that ONNX Runtime scores without TorchSharp.</summary>
internal static class ExportCommand
{
    /// <summary>Example command lines shown in <c>nflows export --help</c>.</summary>
    public static readonly string[] Examples =
    {
        "nflows export runs/mine/model.nflow --onnx model.onnx",
        "nflows export runs/mine/model.nflow --onnx density.onnx --graphs log-prob --float64",
    };

    private static readonly (string Name, OnnxGraphs Graph)[] GraphNames =
    {
        ("log-prob", OnnxGraphs.LogProb),
        ("sample", OnnxGraphs.Sample),
        ("sample-with-log-prob", OnnxGraphs.SampleWithLogProb),
    };

    /// <summary>Builds the command; its action writes to <paramref name="context"/>.</summary>
    public static Command Create(CliContext context)
    {
        var model = new Argument<FileInfo>("model") { Description = "A model file (model.nflow) written by train, demo, fit-target or Flow.Save" };
        var onnx = new Option<FileInfo>("--onnx") { Description = "The ONNX model to write (opset 17, dynamic batch dimension)", HelpName = "file", Required = true };
        var graphs = new Option<string[]>("--graphs")
        {
            Description = "The graphs to write: log-prob (inputs x[, context]), sample and sample-with-log-prob (input z, standard-normal " +
                          "noise[, sample_context]); comma-separated or repeated [default: all three]",
            HelpName = "names",
            AllowMultipleArgumentsPerToken = true,
        };
        var float64 = new Option<bool>("--float64") { Description = "Write a float64 model (default float32)" };
        var command = new Command("export", "Write a trained flow as an ONNX model, to score it where ONNX Runtime runs (no TorchSharp needed).")
        {
            model, onnx, graphs, float64,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(onnx) is { } outFile && result.GetValue(model) is { } modelFile && SamePath.Of(outFile.FullName, modelFile.FullName))
                result.AddError(SamePath.OverwriteError("--onnx", "model", outFile.FullName));
            if (result.GetValue(graphs) is { } names)
            {
                foreach (var name in Split(names))
                {
                    if (!GraphNames.Any(g => g.Name == name))
                        result.AddError($"--graphs: unknown graph '{name}'; expected log-prob, sample or sample-with-log-prob.");
                }
            }
        });
        CliHelp.SetExamples(command, Examples);
        command.SetAction((parseResult, cancellationToken) =>
        {
            string modelPath = parseResult.GetValue(model)!.FullName, outPath = parseResult.GetValue(onnx)!.FullName;
            var selected = parseResult.GetValue(graphs) is { Length: > 0 } names
                ? Split(names).Aggregate(OnnxGraphs.None, (all, name) => all | GraphNames.First(g => g.Name == name).Graph)
                : OnnxGraphs.All;
            bool wide = parseResult.GetValue(float64);
            try
            {
                using var scope = torch.NewDisposeScope();
                if (!File.Exists(modelPath)) throw new FileNotFoundException($"No model file at {modelPath}.", modelPath);
                using var loaded = ModelFile.Load(modelPath, torch.CPU);
                if (loaded is not Flow flow)
                    throw new NotSupportedException($"{modelPath} holds a {loaded.GetType().Name}, not a flow; only flows can be exported to ONNX.");
                flow.eval();
                flow.ExportOnnx(outPath, new OnnxExportOptions { Graphs = selected, Float64 = wide });
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {outPath} ({new FileInfo(outPath).Length} bytes; graphs: {Describe(selected)}; {(wide ? "float64" : "float32")}; event shape [{string.Join(", ", flow.EventShape)}]" +
                    $"{(flow.ContextFeatures > 0 ? $"; {flow.ContextFeatures} context features" : "")})"));
                return Task.FromResult(ExitCodes.Ok);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                context.Error.WriteLine($"error: export failed: {e.Message}");
                return Task.FromResult(ExitCodes.Failure);
            }
        });
        return command;
    }

    private static string[] Split(string[] names) =>
        names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(n => n.ToLowerInvariant()).ToArray();

    private static string Describe(OnnxGraphs graphs) =>
        string.Join(", ", GraphNames.Where(g => graphs.HasFlag(g.Graph)).Select(g => g.Name));
}
