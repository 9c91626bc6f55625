using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class FactorOut
{
    /// <summary>The inner bijector's description on the kept channels; the factored channels pass through.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        string keep = graph.Narrow(input, 0, kept);
        string leave = graph.Narrow(input, kept, factored);
        var step = graph.Within("inner", () => inner.ExportOnnx(graph, keep, inner.ContextFeatures == 0 ? null : context, inverse));
        return new OnnxStep(graph.Concat(1, step.Output, leave), step.LogAbsDet);
    }
}
