using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

public sealed partial class DiagonalGaussian
{
    /// <summary><c>-|(x - loc) / scale|^2 / 2 - sum(log scale) - n log(2 pi) / 2</c> per row.</summary>
    internal override string ExportOnnxLogProb(OnnxGraph graph, string x, string? context)
    {
        using var scope = torch.NewDisposeScope();
        string standardized = graph.Mul(graph.Sub(x, graph.Constant(loc, "loc")), graph.Constant(logScale.neg().exp(), "inverse_scale"));
        double constant = -Internal.TensorValues.ToDouble(logScale.detach().to(ScalarType.Float64).sum()) - EventSize * HalfLog2Pi;
        return graph.AddScalar(graph.Scale(graph.SumRows(graph.Square(standardized)), -0.5), constant);
    }

    /// <summary><c>loc + scale * noise</c>, as <see cref="SampleWithLogProbCore"/> maps its <c>randn</c> draws.</summary>
    internal override string ExportOnnxFromNoise(OnnxGraph graph, string noise, string? context)
    {
        using var scope = torch.NewDisposeScope();
        return graph.Add(graph.Constant(loc, "loc"), graph.Mul(noise, graph.Constant(logScale.exp(), "scale")));
    }
}
