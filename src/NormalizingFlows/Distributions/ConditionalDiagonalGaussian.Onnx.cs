using NormalizingFlows.Onnx;

namespace NormalizingFlows.Distributions;

public sealed partial class ConditionalDiagonalGaussian
{
    /// <summary>The network's description on the context gives the mean and log-scale; then the diagonal Gaussian's density.</summary>
    internal override string ExportOnnxLogProb(OnnxGraph graph, string x, string? context)
    {
        var (mean, logScale) = MeanAndLogScale(graph, context);
        string standardized = graph.Mul(graph.Sub(x, mean), graph.Exp(graph.Neg(logScale)));
        return graph.AddScalar(graph.Sub(graph.Scale(graph.SumRows(graph.Square(standardized)), -0.5), graph.SumRows(logScale)), -EventSize * HalfLog2Pi);
    }

    /// <summary><c>mean + exp(log-scale) * noise</c>, as <see cref="SampleWithLogProbCore"/> maps its <c>randn</c> draws.</summary>
    internal override string ExportOnnxFromNoise(OnnxGraph graph, string noise, string? context)
    {
        var (mean, logScale) = MeanAndLogScale(graph, context);
        return graph.Add(mean, graph.Mul(noise, graph.Exp(logScale)));
    }

    private (string Mean, string LogScale) MeanAndLogScale(OnnxGraph graph, string? context)
    {
        if (context is null) throw OnnxExport.NotSupported(this, "it needs a context, and the graph has none");
        string output = graph.Within("network", () => network.ExportOnnx(graph, context, null));
        return (graph.Narrow(output, 0, EventSize), graph.Narrow(output, EventSize, EventSize));
    }
}
