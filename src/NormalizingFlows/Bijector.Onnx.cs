using NormalizingFlows.Onnx;

namespace NormalizingFlows;

public abstract partial class Bijector
{
    /// <summary>
    /// Describes this layer as ONNX nodes (see <see cref="FlowOnnxExtensions.ExportOnnx"/>): <paramref name="input"/> is a
    /// <c>[batch, ...]</c> value on the base side (Forward) or the data side (<paramref name="inverse"/>), and the result is
    /// that direction's output and log|det J| per row. The default throws <see cref="System.NotSupportedException"/> naming
    /// the layer; a layer with an ONNX description overrides it in its own <c>.Onnx.cs</c> file.
    /// </summary>
    internal virtual OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse) =>
        throw OnnxExport.NotSupported(this, "it has no ONNX description");
}
