using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Exp
{
    /// <summary>Forward <c>exp x</c> with log-derivative <c>x</c>; inverse <c>log y</c> with <c>-log y</c>.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (!inverse) return PerElementLogDet(graph, graph.Exp(input), input);
        string logY = graph.Log(input);
        return PerElementLogDet(graph, logY, graph.Neg(logY));
    }
}
