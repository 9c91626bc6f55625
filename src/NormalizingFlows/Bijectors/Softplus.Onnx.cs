using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Softplus
{
    /// <summary>Forward <c>softplus x</c> with <c>log sigmoid x</c>; inverse <c>y + log(1 - exp(-y))</c> with
    /// <c>-log(1 - exp(-y))</c>.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (!inverse) return PerElementLogDet(graph, graph.Softplus(input), graph.LogSigmoid(input));
        string logOneMinusExpNeg = graph.Log(graph.Neg(graph.Expm1(graph.Neg(input))));
        return PerElementLogDet(graph, graph.Add(input, logOneMinusExpNeg), graph.Neg(logOneMinusExpNeg));
    }
}
