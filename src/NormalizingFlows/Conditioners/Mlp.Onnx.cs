using NormalizingFlows.Onnx;

namespace NormalizingFlows.Conditioners;

public sealed partial class Mlp
{
    /// <summary>Linear layers with the activation between them.</summary>
    internal override string ExportOnnx(OnnxGraph graph, string x, string? context)
    {
        string h = OnnxActivations.Input(graph, this, x, context);
        for (int i = 0; i < layers.Count; i++)
        {
            h = graph.Linear(h, layers[i].weight!, layers[i].bias);
            if (i < layers.Count - 1) h = OnnxActivations.Apply(graph, activation, h);
        }
        return h;
    }
}
