using System;
using System.IO;
using NormalizingFlows.Internal;
using TorchSharp;

namespace NormalizingFlows.Onnx;

/// <summary>Exports a trained <see cref="Flow"/> as an ONNX model that ONNX Runtime (or any ONNX engine) scores without
/// TorchSharp.</summary>
public static class FlowOnnxExtensions
{
    /// <summary>
    /// Writes <paramref name="flow"/> as a standard ONNX model (opset 17, dynamic batch dimension) with the graphs that
    /// <paramref name="options"/> selects: <c>log_prob(x[, context]) -> [batch]</c>, <c>sample(z[, sample_context]) -> x</c>
    /// and <c>sample_with_log_prob(z[, sample_context]) -> (x, log_prob)</c>, where <c>z</c> is standard-normal base noise
    /// that the caller draws (the graphs have no random op). A <see cref="Distributions.StudentT"/> base's sample graphs also take
    /// <c>chi_square [sample_batch, features]</c>, chi-square draws with the degrees of freedom given in the model's metadata
    /// entry <c>chi_square_degrees_of_freedom</c>; a <see cref="Distributions.GaussianMixture"/> base's take
    /// <c>component_uniform [sample_batch]</c>, float64 uniforms in [0, 1) that choose the component (the first whose cumulative
    /// weight exceeds the uniform). The library's own samplers are the same maps of the same kinds of noise. The whole flow is described in memory first: a layer without an ONNX description (an
    /// iterative inverse, a stochastic log-det) throws <see cref="NotSupportedException"/> naming the layer and why, and
    /// nothing is written. The file is written atomically (a temporary file, then a rename).
    /// </summary>
    /// <param name="flow">The flow (its current weights; put it in eval mode first if a layer behaves differently in training).</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="options">Graphs and precision; null for all three graphs in float32.</param>
    /// <exception cref="NotSupportedException">A layer of the flow, or its base for the graphs asked for, has no ONNX description.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or the options select no graph.</exception>
    public static void ExportOnnx(this Flow flow, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var model = OnnxExport.Build(flow, options ?? new OnnxExportOptions());
        AtomicFile.Write(path, stream => Google.Protobuf.MessageExtensions.WriteTo(model, stream));
    }

    /// <summary>The ONNX model of <paramref name="flow"/> as bytes (see <see cref="ExportOnnx"/>), for callers that keep it in
    /// memory or hand it to <c>InferenceSession</c> directly.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="options">Graphs and precision; null for all three graphs in float32.</param>
    /// <exception cref="NotSupportedException">A layer of the flow has no ONNX description.</exception>
    public static byte[] ToOnnx(this Flow flow, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var model = OnnxExport.Build(flow, options ?? new OnnxExportOptions());
        using var stream = new MemoryStream();
        Google.Protobuf.MessageExtensions.WriteTo(model, stream);
        return stream.ToArray();
    }
}
