using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

public sealed partial class InvertibleConv1x1
{
    /// <summary>Forward: <c>W</c> times each pixel's channels; inverse: <c>W^-1</c>, computed once in float64 at export.
    /// Log-det <c>pixels * log|det W|</c>, a constant.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        Tensor w, logAbsDet;
        if (LuDecomposed) (w, _, _, logAbsDet) = LuWeight();
        else
        {
            w = weight!.detach();
            logAbsDet = torch.linalg.slogdet(w).Item2;
        }
        long channels = EventShape[0], height = EventShape[1], width = EventShape[2];
        var matrix = inverse ? torch.linalg.inv(w.detach().to(ScalarType.Float64)) : w.detach();
        string pixelsOfRows = graph.Reshape(input, 0, channels, height * width);
        string mixed = graph.Op("MatMul", graph.Constant(matrix, inverse ? "inverse_weight" : "weight"), pixelsOfRows);
        double logDet = Internal.TensorValues.ToDouble(logAbsDet.detach().to(ScalarType.Float64)) * pixels;
        return new OnnxStep(graph.Reshape(mixed, 0, channels, height, width),
            graph.Constant(new[] { inverse ? -logDet : logDet }, System.Array.Empty<long>(), "log_det"));
    }
}
