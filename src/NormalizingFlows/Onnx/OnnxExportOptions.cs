namespace NormalizingFlows.Onnx;

/// <summary>What <see cref="FlowOnnxExtensions.ExportOnnx"/> writes.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The graphs to write (default all three). The density graph's inputs are <c>x</c> and <c>context</c>, the sampling
    /// graphs' <c>z</c> and <c>sample_context</c>; when both kinds are written, every input has an empty (zero-row) default, so a
    /// caller feeds only the inputs of the outputs it asks for.</summary>
    public OnnxGraphs Graphs { get; init; } = OnnxGraphs.All;

    /// <summary>Writes a float64 (double) model instead of the default float32 one. Weights are converted from the flow's own
    /// precision.</summary>
    public bool Float64 { get; init; }

    /// <summary>The ONNX operator set the model declares: 17 (ONNX 1.12, ONNX Runtime 1.12 or later).</summary>
    public const int Opset = 17;
}
