using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Permutation
{
    /// <summary>A column gather (the inverse order for the inverse); log-det 0.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        var gather = new long[order.Length];
        if (inverse) for (int i = 0; i < order.Length; i++) gather[order[i]] = i;
        else order.CopyTo(gather, 0);
        return new OnnxStep(graph.Columns(input, gather), null);
    }
}
