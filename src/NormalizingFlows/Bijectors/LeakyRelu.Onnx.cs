using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class LeakyRelu
{
    /// <summary><c>x</c> above 0 and <c>slope x</c> at or below (inverse: divide); log-derivative <c>log slope</c> where the
    /// input is at or below 0.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse) =>
        LearnableLeakyRelu.Step(graph, input, graph.Scalar(slope), graph.Scalar(System.Math.Log(slope)), inverse);
}
