using NormalizingFlows.Onnx;

namespace NormalizingFlows;

public abstract partial class ImageConditioner
{
    /// <summary>Describes this network as ONNX nodes: <c>([batch, InChannels, H, W], [batch, ContextFeatures]) -> [batch,
    /// OutChannels, H, W]</c>. The default throws <see cref="System.NotSupportedException"/> naming the conditioner.</summary>
    internal virtual string ExportOnnx(OnnxGraph graph, string x, string? context) =>
        throw OnnxExport.NotSupported(this, "this image conditioner has no ONNX description");
}
