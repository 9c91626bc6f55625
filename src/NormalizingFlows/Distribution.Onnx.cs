using NormalizingFlows.Onnx;

namespace NormalizingFlows;

public abstract partial class Distribution
{
    /// <summary>Describes <c>log p(x)</c> as ONNX nodes: <c>[batch, ...event] -> [batch]</c> (see
    /// <see cref="FlowOnnxExtensions.ExportOnnx"/>). The default throws <see cref="System.NotSupportedException"/> naming the
    /// distribution.</summary>
    internal virtual string ExportOnnxLogProb(OnnxGraph graph, string x, string? context) =>
        throw OnnxExport.NotSupported(this, "its density has no ONNX description");

    /// <summary>Describes a draw of this distribution from standard-normal noise of the same shape as ONNX nodes (the noise
    /// that <see cref="Sample"/> itself draws with <c>torch.randn</c>, so that the same noise gives the same samples). A
    /// distribution that needs further noise declares it as an input of the sample graphs (<see cref="OnnxGraph.SampleNoiseInput"/>,
    /// e.g. a Student-t's chi-square draws, a mixture's component uniforms) and says in the model's metadata what a caller needs
    /// to draw it. The default throws <see cref="System.NotSupportedException"/>: a distribution whose samples are no
    /// deterministic map of noise a caller can draw cannot be sampled by an exported graph.</summary>
    internal virtual string ExportOnnxFromNoise(OnnxGraph graph, string noise, string? context) =>
        throw OnnxExport.NotSupported(this, "its samples are not a deterministic map of standard-normal noise, so the sample graphs " +
            "cannot be written (export the log_prob graph only: OnnxExportOptions.Graphs = OnnxGraphs.LogProb)");
}
