using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Tanh
{
    /// <summary>Forward <c>tanh x</c> with <c>log(1 - tanh^2 x) = 2 (log 2 - x - softplus(-2x))</c>; inverse
    /// <c>(log(1 + y) - log(1 - y)) / 2</c> with <c>-(log(1 + y) + log(1 - y))</c> (NaN, so -inf, outside (-1, 1)).</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (!inverse)
        {
            string logDerivative = graph.Scale(graph.AddScalar(graph.Neg(graph.Add(graph.Softplus(graph.Scale(input, -2.0)), input)), System.Math.Log(2.0)), 2.0);
            return PerElementLogDet(graph, graph.Tanh(input), logDerivative);
        }
        string logOnePlus = graph.Log1p(input);
        string logOneMinus = graph.Log1p(graph.Neg(input));
        return PerElementLogDet(graph, graph.Scale(graph.Sub(logOnePlus, logOneMinus), 0.5), graph.Neg(graph.Add(logOnePlus, logOneMinus)));
    }
}
