namespace NormalizingFlows.Onnx;

/// <summary>What <see cref="FlowOnnxExtensions.ExportOnnx"/> writes.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The graphs to write (default all three). The density graph's inputs are <c>x</c> and <c>context</c>, the sampling
    /// graphs' <c>z</c> and <c>sample_context</c>; when both kinds are written, every input has an empty (zero-row) default, so a
    /// caller feeds only the inputs of the outputs it asks for. ONNX Runtime then lists those inputs as overridable initializers
    /// (Python: <c>session.get_overridable_initializers()</c>) rather than under <c>get_inputs()</c>, and warns once per load;
    /// for a tool that maps declared inputs, such as ML.NET's <c>ApplyOnnxModel</c>, export one kind alone
    /// (<see cref="OnnxGraphs.LogProb"/>).</summary>
    public OnnxGraphs Graphs { get; init; } = OnnxGraphs.All;

    /// <summary>Writes a float64 (double) model instead of the default float32 one. Weights are converted from the flow's own
    /// precision.</summary>
    public bool Float64 { get; init; }

    /// <summary>The ONNX operator set the model declares: 17 (ONNX 1.12, ONNX Runtime 1.12 or later).</summary>
    public const int Opset = 17;
}
