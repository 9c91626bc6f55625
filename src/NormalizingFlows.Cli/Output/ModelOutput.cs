using System.IO;
using System.Text.Json.Nodes;
using TorchSharp;

namespace NormalizingFlows.Cli.Output;

/// <summary>Saves a trained model into a run folder.</summary>
internal static class ModelOutput
{
    /// <summary>Saves <paramref name="model"/> (architecture, weights and <paramref name="metadata"/>, atomically) in
    /// <paramref name="directory"/> and returns the file's path.</summary>
    /// <param name="model">The trained model.</param>
    /// <param name="directory">The run folder.</param>
    /// <param name="metadata">What produced it (command, target, flow), kept with the model.</param>
    public static string Save(Distribution model, string directory, JsonObject metadata)
    {
        string path = Path.Combine(directory, RunFiles.Model);
        using var scope = torch.NewDisposeScope();
        model.Save(path, metadata);
        return path;
    }
}
