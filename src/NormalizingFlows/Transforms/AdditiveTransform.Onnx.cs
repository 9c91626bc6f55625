using NormalizingFlows.Onnx;

namespace NormalizingFlows.Transforms;

public sealed partial class AdditiveTransform : IOnnxElementwiseTransform
{
    OnnxStep IOnnxElementwiseTransform.ExportOnnx(OnnxGraph graph, string x, string parameters, bool inverse)
    {
        string shift = graph.SelectLast(parameters, 0);
        return new OnnxStep(inverse ? graph.Sub(x, shift) : graph.Add(x, shift), null);
    }
}
