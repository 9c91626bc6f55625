using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

public sealed partial class StudentT
{
    /// <summary>Per feature <c>-(nu + 1)/2 log(1 + t^2 / nu) + c</c> with <c>t = (x - loc) / scale</c>, summed; the constants
    /// <c>c = lgamma((nu + 1)/2) - lgamma(nu/2) - log(nu)/2 - log(pi)/2 - log scale</c> are computed at export. (Sampling needs
    /// gamma draws, not a map of normal noise: the sample graphs are not available.)</summary>
    internal override string ExportOnnxLogProb(OnnxGraph graph, string x, string? context)
    {
        using var scope = torch.NewDisposeScope();
        var nu = logDegreesOfFreedom.detach().exp();
        var normaliser = torch.lgamma(nu.add(Internal.Scalars.One, Internal.Scalars.One).mul(Internal.Scalars.Of(0.5)))
            .sub(torch.lgamma(nu.mul(Internal.Scalars.Of(0.5))))
            .sub(logDegreesOfFreedom.detach().mul(Internal.Scalars.Of(0.5))).sub(Internal.Scalars.Of(HalfLogPi)).sub(logScale.detach());
        string t = graph.Mul(graph.Sub(x, graph.Constant(loc, "loc")), graph.Constant(logScale.detach().neg().exp(), "inverse_scale"));
        string kernel = graph.Mul(graph.Log1p(graph.Div(graph.Square(t), graph.Constant(nu, "degrees_of_freedom"))),
            graph.Constant(nu.add(Internal.Scalars.One, Internal.Scalars.One).mul(Internal.Scalars.Of(-0.5)), "exponent"));
        return graph.SumRows(graph.Add(kernel, graph.Constant(normaliser, "normaliser")));
    }
}
