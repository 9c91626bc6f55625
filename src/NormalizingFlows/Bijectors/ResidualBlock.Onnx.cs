using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class ResidualBlock
{
    /// <summary>Not exportable: its inverse is a fixed-point iteration run until it converges and its log-det an iterated or
    /// stochastic power series, neither a fixed graph.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse) =>
        throw OnnxExport.NotSupported(this, "its inverse is a fixed-point iteration run to convergence and its log-det a power series (exact or estimated), not a fixed graph");
}
