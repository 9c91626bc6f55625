using System.Linq;
using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Coupling
{
    /// <summary>Split by the mask, the conditioner on the pass-through features, the transform's description on the others,
    /// merge back.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (transform is not IOnnxElementwiseTransform described)
            throw OnnxExport.NotSupported(this, $"its transform {transform.GetType().Name} has no ONNX description");
        var identity = Enumerable.Range(0, mask.Length).Where(i => !mask[i]).Select(i => (long)i).ToArray();
        var transformed = Enumerable.Range(0, mask.Length).Where(i => mask[i]).Select(i => (long)i).ToArray();
        string pass = contiguous ? graph.Narrow(input, 0, identityCount) : graph.Columns(input, identity);
        string moving = contiguous ? graph.Narrow(input, identityCount, transformedCount) : graph.Columns(input, transformed);
        string raw = graph.Within("conditioner", () => conditioner.ExportOnnx(graph, pass, context));
        string parameters = graph.Reshape(raw, 0, transformedCount, transform.ParametersPerFeature);
        var (moved, logAbsDet) = described.ExportOnnx(graph, moving, parameters, inverse);
        string merged = graph.Concat(1, pass, moved);
        if (!contiguous)
        {
            // Column j of [pass, moved] holds feature order[j]; gather them back into feature order.
            var order = identity.Concat(transformed).ToArray();
            var position = new long[order.Length];
            for (int j = 0; j < order.Length; j++) position[order[j]] = j;
            merged = graph.Columns(merged, position);
        }
        return new OnnxStep(merged, logAbsDet is null ? null : graph.SumRows(logAbsDet));
    }
}
