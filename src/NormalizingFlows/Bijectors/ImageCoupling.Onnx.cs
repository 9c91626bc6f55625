using System.Linq;
using NormalizingFlows.Onnx;
using TorchSharp;

namespace NormalizingFlows.Bijectors;

public sealed partial class ImageCoupling
{
    /// <summary>As the library: the pass-through part (the image with the moving values zeroed, or its pass-through channels)
    /// through the conditioner, its output rearranged to <c>[batch, values, P]</c>, the transform's description on the moving
    /// values, merged back.</summary>
    internal override OnnxStep ExportOnnx(OnnxGraph graph, string input, string? context, bool inverse)
    {
        if (transform is not IOnnxElementwiseTransform described)
            throw OnnxExport.NotSupported(this, $"its transform {transform.GetType().Name} has no ONNX description");
        long height = EventShape[1], width = EventShape[2];
        int p = transform.ParametersPerFeature;
        bool checkerboard = IsCheckerboard(mask);
        string flat = graph.FlattenRows(input);
        long[] moves;
        using (var scope = torch.NewDisposeScope()) moves = transformedIndices.data<long>().ToArray();
        string passed, moving;
        long[] stays = System.Array.Empty<long>();
        if (checkerboard)
        {
            var moved = new bool[channels * pixels];
            foreach (long i in moves) moved[i] = true;
            stays = Enumerable.Range(0, moved.Length).Where(i => !moved[i]).Select(i => (long)i).ToArray();
            var keep = new double[moved.Length];
            for (int i = 0; i < keep.Length; i++) keep[i] = moved[i] ? 0 : 1;
            // index_fill with 0, as Where (not a product, which would turn an infinity into NaN).
            string kept = graph.Op("Cast", new[] { graph.Int64s(keep.Select(v => (long)v).ToArray(), hint: "keep") }, OnnxGraph.Int("to", (long)global::Onnx.TensorProto.Types.DataType.Bool));
            passed = graph.Reshape(graph.Where(kept, flat, graph.Scalar(0.0)), 0, channels, height, width);
            moving = graph.Columns(flat, moves);
        }
        else
        {
            long passStart = mask == ImageMask.FirstChannels ? transformedChannels : 0;
            long moveStart = mask == ImageMask.FirstChannels ? 0 : passedChannels;
            passed = graph.Narrow(input, passStart, passedChannels);
            moving = graph.Narrow(flat, moveStart * pixels, transformedCount);
        }
        string raw = graph.Within("conditioner", () => conditioner.ExportOnnx(graph, passed, context));
        string parameters = graph.Reshape(graph.Op("Transpose", new[] { graph.Reshape(raw, 0, transformedChannels, p, height, width) },
            OnnxGraph.Ints("perm", 0, 1, 3, 4, 2)), 0, transformedChannels * pixels, p);
        if (checkerboard) parameters = graph.Columns(parameters, moves);
        var (movedValues, logAbsDet) = described.ExportOnnx(graph, moving, parameters, inverse);
        string output;
        if (checkerboard)
        {
            // index_copy as a gather: [stays, moves] put back in value order.
            var order = stays.Concat(moves).ToArray();
            var position = new long[order.Length];
            for (int j = 0; j < order.Length; j++) position[order[j]] = j;
            output = graph.Reshape(graph.Columns(graph.Concat(1, graph.Columns(flat, stays), movedValues), position), 0, channels, height, width);
        }
        else
        {
            string movedImage = graph.Reshape(movedValues, 0, transformedChannels, height, width);
            output = mask == ImageMask.FirstChannels ? graph.Concat(1, movedImage, passed) : graph.Concat(1, passed, movedImage);
        }
        return new OnnxStep(output, logAbsDet is null ? null : graph.SumRows(logAbsDet));
    }
}
