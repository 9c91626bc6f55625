using System;

namespace NormalizingFlows.Onnx;

/// <summary>The graphs an ONNX export holds (combine with <c>|</c>); see <see cref="OnnxExportOptions.Graphs"/>.</summary>
[Flags]
public enum OnnxGraphs
{
    /// <summary>No graph (not a valid choice on its own).</summary>
    None = 0,

    /// <summary><c>log_prob(x[, context]) -> [batch]</c>: inputs <c>x</c> (and <c>context</c>), output <c>log_prob</c>.</summary>
    LogProb = 1,

    /// <summary><c>sample(z[, sample_context]) -> x</c>: input <c>z</c>, standard-normal base noise of shape <c>[batch, ...event]</c>
    /// that the caller draws (with <c>chi_square</c> for a Student-t base, <c>component_uniform</c> for a Gaussian-mixture base: see
    /// <see cref="FlowOnnxExtensions.ExportOnnx"/>), output <c>sample</c>.</summary>
    Sample = 2,

    /// <summary><c>sample_with_log_prob(z[, sample_context]) -> (x, log_prob)</c>: outputs <c>sample</c> and <c>sample_log_prob</c>
    /// from one forward pass (no inverse).</summary>
    SampleWithLogProb = 4,

    /// <summary>All three graphs.</summary>
    All = LogProb | Sample | SampleWithLogProb,
}
