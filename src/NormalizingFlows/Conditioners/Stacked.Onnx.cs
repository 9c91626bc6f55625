using NormalizingFlows.Onnx;

namespace NormalizingFlows.Conditioners;

public sealed partial class Stacked
{
    /// <summary>Each part's description, interleaved as <c>[batch, out, parts]</c> flattened (as <see cref="forward"/>).</summary>
    internal override string ExportOnnx(OnnxGraph graph, string x, string? context)
    {
        var outputs = new string[parts.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            var part = parts[i];
            outputs[i] = graph.Unsqueeze(graph.Within($"part{i}", () => part.ExportOnnx(graph, x, context)), 2);
        }
        return graph.FlattenRows(graph.Concat(2, outputs));
    }
}
