using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class ElementwiseAffine
{
    /// <summary><c>x exp(s) + b</c> (inverse <c>(y - b) exp(-s)</c>); log-det <c>sum(s)</c>, a constant.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        string b = graph.Constant(shift, "shift");
        string output = inverse
            ? graph.Mul(graph.Sub(input, b), graph.Constant(logScale.neg().exp(), "inverse_scale"))
            : graph.Add(graph.Mul(input, graph.Constant(logScale.exp(), "scale")), b);
        return ConstantLogDet(graph, output, logScale, inverse);
    }
}
