using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Conditioners;

public sealed partial class ParallelMlp
{
    /// <summary>Each network on its own, outputs interleaved as <c>[batch, out, parts]</c> flattened (as <see cref="forward"/>).</summary>
    internal override string ExportOnnx(OnnxGraph graph, string x, string? context)
    {
        using var scope = torch.NewDisposeScope();
        string input = OnnxActivations.Input(graph, this, x, context);
        var outputs = new string[Parts];
        for (int p = 0; p < Parts; p++)
        {
            string h = input;
            for (int i = 0; i < weights.Count; i++)
            {
                h = graph.Linear(h, weights[i].select(0, p), biases[i].select(0, p));
                if (i < weights.Count - 1) h = OnnxActivations.Apply(graph, activation, h);
            }
            outputs[p] = graph.Unsqueeze(h, 2);
        }
        return graph.FlattenRows(graph.Concat(2, outputs));
    }
}
