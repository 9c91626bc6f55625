using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

public sealed partial class LuLinear
{
    /// <summary>Forward: <c>x (L U)^T + b</c>, then the output order. Inverse: the inverse order, minus b, times the inverse of
    /// <c>(L U)^T</c>, computed once in float64 at export (ONNX has no triangular solve). Log-det: the sum of the log-diagonal,
    /// a constant.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        var (l, u, logDiagonal) = Factors();
        var weight = l.matmul(u);
        string logDet = graph.Constant(logDiagonal.sum(), "log_det");
        if (!inverse)
        {
            string y = graph.Linear(input, weight, bias);
            if (outputOrder is not null) y = graph.Columns(y, outputOrder);
            return new OnnxStep(y, logDet);
        }
        string r = input;
        if (outputOrder is not null)
        {
            var back = new long[outputOrder.Length];
            for (int i = 0; i < outputOrder.Length; i++) back[outputOrder[i]] = i;
            r = graph.Columns(r, back);
        }
        r = graph.Sub(r, graph.Constant(bias, "bias"));
        var inverseWeight = torch.linalg.inv(weight.to(ScalarType.Float64));
        string x = graph.Op("MatMul", r, graph.Constant(inverseWeight.t(), "inverse_weight"));
        return new OnnxStep(x, graph.Neg(logDet));
    }
}
