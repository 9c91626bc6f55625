using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Shift
{
    /// <summary><c>x + shift</c> (inverse <c>y - shift</c>); log-det 0.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        string value = graph.Constant(shift, "shift");
        return new OnnxStep(inverse ? graph.Sub(input, value) : graph.Add(input, value), null);
    }
}
