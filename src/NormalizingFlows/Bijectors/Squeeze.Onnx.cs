using NormalizingFlows.Onnx;

namespace NormalizingFlows.Bijectors;

public sealed partial class Squeeze
{
    /// <summary>The same reshape, transpose, reshape as the library (log-det 0).</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        long c = Channels, h = Height, w = Width;
        if (!inverse)
        {
            string blocks = graph.Reshape(input, 0, c, 2, 2, h / 2, w / 2);
            string moved = graph.Op("Transpose", new[] { blocks }, OnnxGraph.Ints("perm", 0, 1, 4, 2, 5, 3));
            return new OnnxStep(graph.Reshape(moved, 0, c, h, w), null);
        }
        string pixels = graph.Reshape(input, 0, c, h / 2, 2, w / 2, 2);
        string folded = graph.Op("Transpose", new[] { pixels }, OnnxGraph.Ints("perm", 0, 1, 3, 5, 2, 4));
        return new OnnxStep(graph.Reshape(folded, 0, 4 * c, h / 2, w / 2), null);
    }
}
