using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Sigmoid
{
    /// <summary>Forward <c>sigmoid x</c> with <c>log sigmoid(x) + log sigmoid(-x)</c>; inverse <c>log y - log(1 - y)</c> with
    /// minus their sum (NaN, so -inf, outside (0, 1)).</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse) =>
        inverse ? LogitStep(graph, input) : SigmoidStep(graph, input);

    internal static OnnxStep SigmoidStep(OnnxGraph graph, string x) =>
        PerElementLogDet(graph, graph.Sigmoid(x), graph.Add(graph.LogSigmoid(x), graph.LogSigmoid(graph.Neg(x))));

    internal static OnnxStep LogitStep(OnnxGraph graph, string y)
    {
        string logY = graph.Log(y);
        string logOneMinusY = graph.Log1p(graph.Neg(y));
        return PerElementLogDet(graph, graph.Sub(logY, logOneMinusY), graph.Neg(graph.Add(logY, logOneMinusY)));
    }
}
