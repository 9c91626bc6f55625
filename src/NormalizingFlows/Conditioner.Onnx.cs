using NormalizingFlows.Onnx;

namespace NormalizingFlows;

public abstract partial class Conditioner
{
    /// <summary>Describes this network as ONNX nodes: <c>([batch, InFeatures], [batch, ContextFeatures]) -> [batch,
    /// OutFeatures]</c>. The default throws <see cref="System.NotSupportedException"/> naming the conditioner.</summary>
    internal virtual string ExportOnnx(OnnxGraph graph, string x, string? context) =>
        throw OnnxExport.NotSupported(this, "this conditioner has no ONNX description");
}
