using System;
using System.IO;
using NormalizingFlows.Onnx;

namespace NormalizingFlows.Cli.Output;

/// <summary>The <c>model.onnx</c> a demo writes beside <c>model.nflow</c>, and the line its report gives about it.</summary>
internal static class OnnxModelFile
{
    /// <summary>File name of the exported model.</summary>
    public const string Name = "model.onnx";

    /// <summary>Exports <paramref name="flow"/> (every graph, float32) to <c>model.onnx</c> in <paramref name="directory"/> and returns
    /// what the report says about it: how to use the file, or why the flow has none (a layer ONNX cannot describe).</summary>
    public static (bool Written, string Note) TryWrite(string directory, Flow flow)
    {
        try
        {
            flow.ExportOnnx(Path.Combine(directory, Name));
            return (true, $"{Name}: the same flow for ONNX Runtime, without libtorch. In .NET: OnnxFlow.Load(\"{Name}\").LogProb(rows) " +
                "or .Sample(n, seed) (package NormalizingFlows.Onnx); in ML.NET: ApplyOnnxModel(\"log_prob\", \"x\", ...); in Python: " +
                "onnxruntime.InferenceSession, inputs x (log_prob) or z, standard-normal noise (sample, sample_log_prob; a Student-t base " +
                "also takes chi_square, a mixture base component_uniform: see the model's doc string)");
        }
        catch (NotSupportedException e)
        {
            return (false, $"none: {e.Message}");
        }
    }
}
