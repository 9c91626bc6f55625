using NormalizingFlows.Internal;
using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class BatchNorm
{
    /// <summary>Eval mode: the running statistics as constants. Inverse <c>(y - mean) exp(s - log std) + b</c>, forward its
    /// inverse; log-det <c>sum(s - log std)</c> (inverse), a constant.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (training)
            throw OnnxExport.NotSupported(this, "in training mode it normalises with each batch's own statistics; call eval() before exporting");
        using var scope = torch.NewDisposeScope();
        using var epsilonScalar = epsilon.ToScalar();
        var logStd = runningVariance.add(epsilonScalar, Scalars.One).log().mul(Scalars.Of(0.5));
        var inverseLogScale = logScale.detach().sub(logStd);
        string logDet = graph.Constant(inverseLogScale.sum(), "log_det");
        if (inverse)
            return new OnnxStep(graph.Add(graph.Mul(graph.Sub(input, graph.Constant(runningMean, "mean")), graph.Constant(inverseLogScale.exp(), "scale")),
                graph.Constant(shift, "shift")), logDet);
        return new OnnxStep(graph.Add(graph.Mul(graph.Sub(input, graph.Constant(shift, "shift")), graph.Constant(inverseLogScale.neg().exp(), "scale")),
            graph.Constant(runningMean, "mean")), graph.Neg(logDet));
    }
}
