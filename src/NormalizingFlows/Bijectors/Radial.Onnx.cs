using NormalizingFlows.Internal;
using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class Radial
{
    /// <summary>Forward only: <c>x + beta h(r) (x - c)</c> with <c>h = 1 / (alpha + r)</c> and its log-det; no closed-form
    /// inverse, so only the sample graphs can hold it.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (inverse)
            throw OnnxExport.NotSupported(this, "it has no closed-form inverse, so the log_prob graph cannot be written " +
                "(export the sample graphs only: OnnxExportOptions.Graphs = OnnxGraphs.Sample | OnnxGraphs.SampleWithLogProb)");
        using var scope = torch.NewDisposeScope();
        var alpha = StableMath.Softplus(alphaRaw.detach());
        var beta = StableMath.Softplus(betaRaw.detach()).sub(alpha);
        string offset = graph.Sub(input, graph.Constant(center, "center"));
        string r = graph.Op("ReduceL2", new[] { offset }, OnnxGraph.Ints("axes", 1), OnnxGraph.Int("keepdims", 1));
        string h = graph.Div(graph.Scalar(1.0), graph.Add(r, graph.Constant(alpha, "alpha")));
        string betaH = graph.Mul(h, graph.Constant(beta, "beta"));
        string y = graph.Add(input, graph.Mul(offset, betaH));
        string logAbsDet = graph.Add(graph.Scale(graph.Log1p(betaH), EventShape[0] - 1),
            graph.Log1p(graph.Mul(graph.Square(h), graph.Constant(beta.mul(alpha), "beta_alpha"))));
        return new OnnxStep(y, graph.Reshape(logAbsDet, -1));
    }
}
