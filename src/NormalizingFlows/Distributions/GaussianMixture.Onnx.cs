using System.Linq;
using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

public sealed partial class GaussianMixture
{
    /// <summary><c>logsumexp_k(log w_k + log N(x; mu_k, diag sigma_k^2))</c>, the maximum taken out before the exponentials.</summary>
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

    /// <summary><c>mu_k + sigma_k z</c> (as <see cref="FromNoise"/>), where the component <c>k</c> is chosen by a further input of
    /// the sample graphs, <c>component_uniform [sample_batch]</c>: float64 uniforms in [0, 1) that the caller supplies (the graph
    /// has no random op); <c>k</c> is the number of cumulative weights (float64 constants) at or below the uniform.</summary>
    internal override string ExportOnnxFromNoise(OnnxGraph graph, string noise, string? context)
    {
        using var scope = torch.NewDisposeScope();
        string uniform = graph.SampleNoiseInput("component_uniform", System.Array.Empty<long>(), global::Onnx.TensorProto.Types.DataType.Double);
        var cumulative = CumulativeWeights();
        string thresholds = graph.DoubleConstant(cumulative.data<double>().ToArray(), new long[] { Components - 1 }, "cumulative_weights");
        string atOrAbove = graph.Op("Cast", new[] { graph.Op("GreaterOrEqual", graph.Unsqueeze(uniform, 1), thresholds) },
            OnnxGraph.Int("to", (long)global::Onnx.TensorProto.Types.DataType.Int64));
        string component = graph.Op("ReduceSum", new[] { atOrAbove, graph.Int64s(new[] { 1L }, hint: "axes") }, OnnxGraph.Int("keepdims", 0));
        string mean = graph.Op("Gather", new[] { graph.Constant(means, "means"), component }, OnnxGraph.Int("axis", 0));
        string scale = graph.Op("Gather", new[] { graph.Constant(logScales.detach().exp(), "scales"), component }, OnnxGraph.Int("axis", 0));
        return graph.Add(mean, graph.Mul(noise, scale));
    }
}
