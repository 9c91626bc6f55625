using System;
using NormalizingFlows.Onnx;

namespace NormalizingFlows.Distributions;

public sealed partial class StandardNormal
{
    /// <summary><c>-|x|^2 / 2 - n log(2 pi) / 2</c> per row.</summary>
    internal override string ExportOnnxLogProb(OnnxGraph graph, string x, string? context) =>
        graph.AddScalar(graph.Scale(graph.SumRows(graph.Square(x)), -0.5), -EventSize * HalfLog2Pi);

    /// <summary>The noise itself.</summary>
    internal override string ExportOnnxFromNoise(OnnxGraph graph, string noise, string? context) => noise;
}
