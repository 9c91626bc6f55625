using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using NormalizingFlows.Serialization;
using TorchSharp;

namespace NormalizingFlows.Cli.Inference;

/// <summary>The <c>--model</c> option of the commands that use a trained model, and loading it.</summary>
internal static class ModelInput
{
    /// <summary><c>--model/-m FILE</c>: a model file written by <c>train</c>, <c>demo</c>, <c>fit-target</c> or <c>Distribution.Save</c>.</summary>
    public static Option<FileInfo> Option() => new("--model", "-m")
    {
        Description = "A model file (model.nflow) written by train, demo, fit-target or Distribution.Save",
        HelpName = "file",
        Required = true,
    };

    /// <summary>Loads the model on <paramref name="device"/> and the column names it was trained on (x0.. when unknown).</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="ModelFileException">The file is not a readable model, or it exceeds <paramref name="limits"/> (the message
    /// names the file and the problem).</exception>
    public static (Distribution Model, IReadOnlyList<string> Columns) Load(string path, torch.Device device, InputLimits? limits = null)
    {
        var model = ModelFile.Load(path, device, (limits ?? InputLimits.Default).Model);
        var metadata = ModelFile.ReadMetadata(path);
        long width = model.EventShape.Aggregate(1L, (a, b) => a * b);
        var columns = metadata?["columns"] is JsonArray names && names.Count == width
            ? names.Select(n => n?.GetValue<string>() ?? "").ToArray()
            : Enumerable.Range(0, (int)width).Select(i => "x" + i).ToArray();
        return (model, columns);
    }
}
