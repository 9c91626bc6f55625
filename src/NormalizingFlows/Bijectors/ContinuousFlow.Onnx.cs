using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class ContinuousFlow
{
    /// <summary>Not exportable: both directions integrate an ODE whose number of steps the adaptive solver chooses per call.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse) =>
        throw OnnxExport.NotSupported(this, "it integrates an ODE with a solver that chooses its number of steps per call, not a fixed graph");
}
