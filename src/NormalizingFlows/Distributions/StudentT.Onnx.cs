using System.Linq;
using NormalizingFlows.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

public sealed partial class StudentT
{
    /// <summary>Per feature <c>-(nu + 1)/2 log(1 + t^2 / nu) + c</c> with <c>t = (x - loc) / scale</c>, summed; the constants
    /// <c>c = lgamma((nu + 1)/2) - lgamma(nu/2) - log(nu)/2 - log(pi)/2 - log scale</c> are computed at export.</summary>
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

    /// <summary><c>loc + scale z / sqrt(v / nu)</c> (as <see cref="FromNoise"/>), where <c>v</c> is a further input of the sample
    /// graphs, <c>chi_square [sample_batch, features]</c>: chi-square draws with <c>nu_d</c> degrees of freedom in feature
    /// <c>d</c>, which the caller supplies (the graph has no random op). The degrees of freedom are in the model's metadata,
    /// <c>chi_square_degrees_of_freedom</c> (comma-separated, round-trip precision), so that a caller without the library can
    /// draw them (<c>OnnxFlow.Sample</c> does).</summary>
    internal override string ExportOnnxFromNoise(OnnxGraph graph, string noise, string? context)
    {
        using var scope = torch.NewDisposeScope();
        var nu = logDegreesOfFreedom.detach().exp();
        string chiSquare = graph.SampleNoiseInput("chi_square", new long[] { EventSize }, graph.ElementType);
        graph.Metadata["chi_square_degrees_of_freedom"] = string.Join(",",
            nu.to(ScalarType.Float64).data<double>().ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        string t = graph.Mul(noise, graph.Op("Reciprocal", graph.Op("Sqrt", graph.Div(chiSquare, graph.Constant(nu, "degrees_of_freedom")))));
        return graph.Add(graph.Constant(loc, "loc"), graph.Mul(t, graph.Constant(logScale.detach().exp(), "scale")));
    }
}
