using NormalizingFlows.Onnx;

namespace NormalizingFlows.Transforms;

public sealed partial class RationalQuadraticSpline : IOnnxElementwiseTransform
{
    OnnxStep IOnnxElementwiseTransform.ExportOnnx(OnnxGraph graph, string x, string parameters, bool inverse) =>
        OnnxRationalQuadratic.Apply(graph, x, parameters, Bins, Bound, MinBinWidth, MinBinHeight, MinDerivative, derivativeShift, inverse);
}
