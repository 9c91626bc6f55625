using System;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Onnx;

/// <summary>The conditioners' activations as ONNX nodes, with the library's definitions (see <c>Internal.Activations</c>).</summary>
internal static class OnnxActivations
{
    public static string Apply(OnnxGraph graph, Activation activation, string x) => activation switch
    {
        Activation.Relu => graph.Relu(x),
        Activation.Tanh => graph.Tanh(x),
        // ONNX's LeakyRelu takes its slope as a float attribute: 0.01f is 2.2e-8 off 0.01, which a float64 graph must not be.
        Activation.LeakyRelu => graph.Float64
            ? graph.Where(graph.Greater(x, graph.Scalar(0.0)), x, graph.Scale(x, Internal.Activations.LeakySlope))
            : graph.Op("LeakyRelu", new[] { x }, OnnxGraph.Float("alpha", (float)Internal.Activations.LeakySlope)),
        Activation.Elu => graph.Where(graph.Greater(x, graph.Scalar(0.0)), x, graph.Expm1(graph.Min(x, graph.Scalar(0.0)))),
        Activation.Silu => graph.Mul(x, graph.Sigmoid(x)),
        // The exact GELU (libtorch's default): x (1 + erf(x / sqrt 2)) / 2.
        Activation.Gelu => graph.Mul(graph.Scale(x, 0.5), graph.AddScalar(graph.Op("Erf", graph.Scale(x, 1.0 / Math.Sqrt(2.0))), 1.0)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, $"Unknown activation {activation}."),
    };

    /// <summary>The network's input: the features, the context, or both side by side (as the conditioners concatenate them).</summary>
    public static string Input(OnnxGraph graph, Conditioner conditioner, string x, string? context) =>
        context is null ? x : conditioner.InFeatures == 0 ? context : graph.Concat(1, x, context);
}
