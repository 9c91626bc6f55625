using NormalizingFlows.Onnx;

namespace NormalizingFlows.Transforms;

public sealed partial class AffineTransform : IOnnxElementwiseTransform
{
    OnnxStep IOnnxElementwiseTransform.ExportOnnx(OnnxGraph graph, string x, string parameters, bool inverse)
    {
        string shift = graph.SelectLast(parameters, 0);
        string raw = graph.SelectLast(parameters, 1);
        string logScale = ScaleMap switch
        {
            ScaleMap.Sigmoid => graph.LogSigmoid(graph.AddScalar(raw, 2.0)),
            ScaleMap.SoftClamp => graph.Scale(graph.Tanh(graph.Scale(raw, 1.0 / Bound)), Bound),
            _ => raw,
        };
        return AffineStep(graph, x, shift, logScale, inverse);
    }

    /// <summary><c>shift + x exp(s)</c> with log-derivative <c>s</c>; inverse <c>(y - shift) exp(-s)</c> with <c>-s</c>.</summary>
    internal static OnnxStep AffineStep(OnnxGraph graph, string x, string shift, string logScale, bool inverse)
    {
        if (!inverse) return new OnnxStep(graph.Add(shift, graph.Mul(x, graph.Exp(logScale))), logScale);
        string minusLogScale = graph.Neg(logScale);
        return new OnnxStep(graph.Mul(graph.Sub(x, shift), graph.Exp(minusLogScale)), minusLogScale);
    }
}
