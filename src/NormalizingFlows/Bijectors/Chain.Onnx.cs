using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Chain
{
    /// <summary>Each layer's description in turn (last first for the inverse), log-dets summed.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        string value = input;
        string? total = null;
        for (int k = 0; k < layers.Count; k++)
        {
            int i = inverse ? layers.Count - 1 - k : k;
            var layer = layers[i];
            var step = graph.Within($"{i}_{layer.GetType().Name}", () => layer.ExportOnnx(graph, value, layer.ContextFeatures == 0 ? null : context, inverse));
            value = step.Output;
            total = graph.AddLogDets(total, step.LogAbsDet);
        }
        return new OnnxStep(value, total);
    }
}
