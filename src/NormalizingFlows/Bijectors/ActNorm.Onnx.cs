using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class ActNorm
{
    /// <summary>Per-channel <c>x exp(s) + b</c> (inverse <c>(y - b) exp(-s)</c>); log-det <c>pixels * sum(s)</c>, a constant.
    /// An uninitialised ActNorm exports as it evaluates in eval mode (the identity until initialised).</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        using var scope = torch.NewDisposeScope();
        string shiftValue = graph.Constant(shift.view(parameterShape), "shift");
        string logDet = graph.Constant(new[] { TensorValues(logScale.sum()) * pixels }, System.Array.Empty<long>(), "log_det");
        if (!inverse)
            return new OnnxStep(graph.Add(graph.Mul(input, graph.Constant(logScale.exp().view(parameterShape), "scale")), shiftValue), logDet);
        string x = graph.Mul(graph.Sub(input, shiftValue), graph.Constant(logScale.neg().exp().view(parameterShape), "inverse_scale"));
        return new OnnxStep(x, graph.Neg(logDet));
    }

    private static double TensorValues(TorchSharp.torch.Tensor value) => Internal.TensorValues.ToDouble(value);
}
