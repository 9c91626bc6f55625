using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

public sealed partial class GaussianMixture
{
    /// <summary><c>logsumexp_k(log w_k + log N(x; mu_k, diag sigma_k^2))</c>, the maximum taken out before the exponentials.
    /// (Sampling picks a component at random, not a map of normal noise: the sample graphs are not available.)</summary>
    internal override string ExportOnnxLogProb(OnnxGraph graph, string x, string? context)
    {
        using var scope = torch.NewDisposeScope();
        string standardized = graph.Mul(graph.Sub(graph.Unsqueeze(x, 1), graph.Constant(means, "means")), graph.Constant(logScales.detach().neg().exp(), "inverse_scales"));
        string quadratic = graph.Op("ReduceSum", new[] { graph.Square(standardized), graph.Int64s(new[] { 2L }, hint: "axes") }, OnnxGraph.Int("keepdims", 0));
        var constant = nn.functional.log_softmax(logits.detach(), 0).sub(logScales.detach().sum(1)).sub(Internal.Scalars.Of(EventSize * HalfLog2Pi));
        string perComponent = graph.Add(graph.Scale(quadratic, -0.5), graph.Constant(constant, "log_weights"));
        string maximum = graph.Op("ReduceMax", new[] { perComponent }, OnnxGraph.Ints("axes", 1), OnnxGraph.Int("keepdims", 1));
        string sum = graph.Op("ReduceSum", new[] { graph.Exp(graph.Sub(perComponent, maximum)), graph.Int64s(new[] { 1L }, hint: "axes") }, OnnxGraph.Int("keepdims", 0));
        return graph.Add(graph.Log(sum), graph.Reshape(maximum, -1));
    }
}
