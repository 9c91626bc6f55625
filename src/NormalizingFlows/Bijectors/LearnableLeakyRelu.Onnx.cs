using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class LearnableLeakyRelu
{
    /// <summary>As <see cref="LeakyRelu"/> with the current slope <c>softplus(raw) + minimum</c> as a constant.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        var slope = CurrentSlope();
        return Step(graph, input, graph.Constant(slope, "slope"), graph.Constant(slope.log(), "log_slope"), inverse);
    }

    internal static OnnxStep Step(OnnxGraph graph, string input, string slope, string logSlope, bool inverse)
    {
        string negative = graph.Op("LessOrEqual", input, graph.Scalar(0.0));
        string output = graph.Where(negative, inverse ? graph.Div(input, slope) : graph.Mul(input, slope), input);
        string signedLogSlope = inverse ? graph.Neg(logSlope) : logSlope;
        string logDerivative = graph.Where(negative, signedLogSlope, graph.Scalar(0.0));
        return PerElementLogDet(graph, output, logDerivative);
    }
}
