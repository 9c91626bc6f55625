using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Invert
{
    /// <summary>The inner bijector's description in the other direction.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse) =>
        inner.ExportOnnx(graph, input, context, !inverse);
}
