using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class Planar
{
    /// <summary>Forward only: <c>x + u_hat tanh(w.x + b)</c> with <c>log|1 + (1 - h^2) w.u_hat|</c>; no closed-form inverse, so
    /// only the sample graphs can hold it.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (inverse)
            throw OnnxExport.NotSupported(this, "it has no closed-form inverse, so the log_prob graph cannot be written " +
                "(export the sample graphs only: OnnxExportOptions.Graphs = OnnxGraphs.Sample | OnnxGraphs.SampleWithLogProb)");
        using var scope = torch.NewDisposeScope();
        var uHat = UHat().detach();
        string h = graph.Tanh(graph.Add(graph.Op("MatMul", input, graph.Constant(w, "w")), graph.Constant(bias, "bias")));
        string y = graph.Add(input, graph.Mul(graph.Unsqueeze(h, 1), graph.Constant(uHat, "u_hat")));
        string wu = graph.Constant(w.detach().dot(uHat), "w_dot_u_hat");
        string logAbsDet = graph.Log(graph.Abs(graph.AddScalar(graph.Mul(graph.Sub(graph.Scalar(1.0), graph.Square(h)), wu), 1.0)));
        return new OnnxStep(y, logAbsDet);
    }
}
