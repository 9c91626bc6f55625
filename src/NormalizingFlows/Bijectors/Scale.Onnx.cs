using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class Scale
{
    /// <summary><c>x exp(s)</c> (inverse <c>y exp(-s)</c>); log-det <c>sum(s)</c>, a constant.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        string factor = graph.Constant(inverse ? logScale.neg().exp() : logScale.exp(), "scale");
        return ConstantLogDet(graph, graph.Mul(input, factor), logScale, inverse);
    }
}
