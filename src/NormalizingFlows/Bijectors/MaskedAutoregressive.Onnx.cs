using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class MaskedAutoregressive
{
    /// <summary>Inverse (density): one pass of the network on the data, then the transform's inverse. Forward (sampling): the
    /// library's passes unrolled, one per feature (after pass k every feature of rank below k + 1 is final); the log-det is the
    /// last pass's.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (transform is not IOnnxElementwiseTransform described)
            throw OnnxExport.NotSupported(this, $"its transform {transform.GetType().Name} has no ONNX description");
        if (inverse)
        {
            var (x, logAbsDet) = described.ExportOnnx(graph, input, Parameters(graph, input, context, 0), inverse: true);
            return new OnnxStep(x, logAbsDet is null ? null : graph.SumRows(logAbsDet));
        }
        string y = input;
        string? last = null;
        for (int pass = 0; pass < features; pass++)
        {
            var step = described.ExportOnnx(graph, input, Parameters(graph, y, context, pass), inverse: false);
            y = step.Output;
            last = step.LogAbsDet;
        }
        return new OnnxStep(y, last is null ? null : graph.SumRows(last));
    }

    private string Parameters(OnnxGraph graph, string y, string? context, int pass) =>
        graph.Reshape(graph.Within($"made{pass}", () => made.ExportOnnx(graph, y, context)), 0, features, transform.ParametersPerFeature);
}
