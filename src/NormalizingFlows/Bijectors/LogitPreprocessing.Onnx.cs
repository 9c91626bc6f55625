using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class LogitPreprocessing
{
    /// <summary>Forward <c>(sigmoid y - alpha) / (1 - 2 alpha)</c>; inverse <c>logit(alpha + (1 - 2 alpha) x)</c> (NaN, so -inf,
    /// outside the support).</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        double range = 1 - 2 * Alpha;
        if (!inverse)
        {
            string x = graph.Scale(graph.AddScalar(graph.Sigmoid(input), -Alpha), 1.0 / range);
            string logDerivative = graph.AddScalar(graph.Add(graph.LogSigmoid(input), graph.LogSigmoid(graph.Neg(input))), -logRange);
            return PerElementLogDet(graph, graph.Div(graph.AddScalar(graph.Sigmoid(input), -Alpha), graph.Scalar(range)), logDerivative);
        }
        string p = graph.AddScalar(graph.Scale(input, range), Alpha);
        string logP = graph.Log(p);
        string logOneMinusP = graph.Log1p(graph.Neg(p));
        return PerElementLogDet(graph, graph.Sub(logP, logOneMinusP), graph.AddScalar(graph.Neg(graph.Add(logP, logOneMinusP)), logRange));
    }
}
