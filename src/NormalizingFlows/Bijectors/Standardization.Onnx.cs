using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class Standardization
{
    /// <summary><c>x scale + mean</c> (inverse <c>(y - mean) / scale</c>); log-det <c>sum(log scale)</c>, a constant.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        string m = graph.Constant(mean, "mean");
        string s = graph.Constant(scale, "scale");
        string output = inverse ? graph.Div(graph.Sub(input, m), s) : graph.Add(graph.Mul(input, s), m);
        return ConstantLogDet(graph, output, scale.log(), inverse);
    }
}
