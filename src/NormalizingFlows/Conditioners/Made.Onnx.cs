using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Conditioners;

public sealed partial class Made
{
    /// <summary>The masked layers (weights times masks, as constants) with the activation between them, residual blocks
    /// included.</summary>
    internal override string ExportOnnx(OnnxGraph graph, string x, string? context)
    {
        string h = context is null ? x : graph.Concat(1, x, context);
        h = layers[0].ExportOnnx(graph, h);
        int step = Residual ? 2 : 1;
        for (int i = 1; i < layers.Count - 1; i += step)
        {
            string next = layers[i].ExportOnnx(graph, OnnxActivations.Apply(graph, activation, h));
            h = Residual ? graph.Add(h, layers[i + 1].ExportOnnx(graph, OnnxActivations.Apply(graph, activation, next))) : next;
        }
        return layers[^1].ExportOnnx(graph, OnnxActivations.Apply(graph, activation, h));
    }

    private sealed partial class MaskedLinear
    {
        public string ExportOnnx(OnnxGraph graph, string x)
        {
            using var scope = torch.NewDisposeScope();
            return graph.Linear(x, weight.mul(mask), bias);
        }
    }
}
