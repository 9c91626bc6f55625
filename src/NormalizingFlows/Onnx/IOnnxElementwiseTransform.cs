using NormalizingFlows.Transforms;

namespace NormalizingFlows.Onnx;

/// <summary>An <see cref="IElementwiseTransform"/> with an ONNX description: <c>x</c> is <c>[batch, features]</c>,
/// <c>parameters</c> is <c>[batch, features, ParametersPerFeature]</c>, and the result's log|det| is per element
/// (<c>[batch, features]</c>), as the transform's own Forward and Inverse give it.</summary>
internal interface IOnnxElementwiseTransform
{
    OnnxStep ExportOnnx(OnnxGraph graph, string x, string parameters, bool inverse);
}
