using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Logit
{
    /// <summary>The inverse of <see cref="Sigmoid"/>'s description.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse) =>
        inverse ? Sigmoid.SigmoidStep(graph, input) : Sigmoid.LogitStep(graph, input);
}
