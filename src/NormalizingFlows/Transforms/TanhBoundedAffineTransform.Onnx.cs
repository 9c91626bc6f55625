using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Transforms;

public sealed partial class TanhBoundedAffineTransform : IOnnxElementwiseTransform
{
    OnnxStep IOnnxElementwiseTransform.ExportOnnx(OnnxGraph graph, string x, string parameters, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        string bound = graph.Constant(logBound.exp(), "bound");
        string logScale = graph.Mul(graph.Tanh(graph.Div(graph.SelectLast(parameters, 1), bound)), bound);
        return AffineTransform.AffineStep(graph, x, graph.SelectLast(parameters, 0), logScale, inverse);
    }
}
