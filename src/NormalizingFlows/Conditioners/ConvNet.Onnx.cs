using System.Linq;
using NormalizingFlows.Onnx;
using TorchSharp;
using TorchSharp.Modules;

namespace NormalizingFlows.Conditioners;

public sealed partial class ConvNet
{
    /// <summary>The context as constant planes beside the channels, then 3x3 convolutions (padding 1) with the residual blocks.</summary>
    internal override string ExportOnnx(OnnxGraph graph, string x, string? context)
    {
        if (context is not null)
        {
            string planes = graph.Reshape(context, 0, ContextFeatures, 1, 1);
            string imageSize = graph.Op("Shape", new[] { x }, OnnxGraph.Int("start", 2));
            string spread = graph.Op("Expand", planes, graph.Concat(0, graph.Int64s(new[] { 1L, 1L }, hint: "ones"), imageSize));
            x = graph.Concat(1, x, spread);
        }
        string h = Convolve(graph, input, x);
        for (int i = 0; i < blocks.Count; i += 2)
        {
            string inner = Convolve(graph, blocks[i], OnnxActivations.Apply(graph, activation, h));
            h = graph.Add(h, Convolve(graph, blocks[i + 1], OnnxActivations.Apply(graph, activation, inner)));
        }
        return Convolve(graph, output, OnnxActivations.Apply(graph, activation, h));
    }

    private static string Convolve(OnnxGraph graph, Conv2d convolution, string x)
    {
        using var scope = torch.NewDisposeScope();
        if (!graph.Float64)
            return graph.Op("Conv", new[] { x, graph.Constant(convolution.weight!, "kernel"), graph.Constant(convolution.bias!, "bias") },
                OnnxGraph.Ints("kernel_shape", 3, 3), OnnxGraph.Ints("pads", 1, 1, 1, 1));
        // ONNX Runtime's CPU provider has no float64 Conv: the same 3x3 convolution as nine shifted copies of the padded image
        // side by side ([batch, H, W, 9 C]) times the kernel as a [9 C, out] matrix (MatMul has a float64 kernel).
        var weight = convolution.weight!.detach();
        long outChannels = weight.size(0), inChannels = weight.size(1);
        string padded = graph.Op("Pad", x, graph.Int64s(new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }, hint: "pads"), graph.Scalar(0.0));
        string height = graph.Op("Shape", new[] { x }, OnnxGraph.Int("start", 2), OnnxGraph.Int("end", 3));
        string width = graph.Op("Shape", new[] { x }, OnnxGraph.Int("start", 3), OnnxGraph.Int("end", 4));
        var shifted = new string[9];
        for (int dy = 0; dy < 3; dy++)
        {
            for (int dx = 0; dx < 3; dx++)
            {
                string starts = graph.Int64s(new long[] { dy, dx }, hint: "starts");
                string ends = graph.Concat(0, graph.Op("Add", height, graph.Int64s(new long[] { dy }, hint: "dy")), graph.Op("Add", width, graph.Int64s(new long[] { dx }, hint: "dx")));
                shifted[3 * dy + dx] = graph.Op("Slice", padded, starts, ends, graph.Int64s(new long[] { 2, 3 }, hint: "axes"));
            }
        }
        // [batch, 9, C, H, W] -> [batch, H, W, C, 9] -> [batch, H, W, 9 C] with (c, ky, kx) order, as the kernel's [out, C, 3, 3].
        string stacked = graph.Concat(1, shifted.Select(s => graph.Unsqueeze(s, 1)).ToArray());
        string columns = graph.Op("Transpose", new[] { stacked }, OnnxGraph.Ints("perm", 0, 3, 4, 2, 1));
        string rows = graph.Reshape(columns, 0, 0, 0, inChannels * 9);
        string kernel = graph.Constant(weight.reshape(outChannels, inChannels * 9).t(), "kernel");
        string product = graph.Add(graph.Op("MatMul", rows, kernel), graph.Constant(convolution.bias!, "bias"));
        return graph.Op("Transpose", new[] { product }, OnnxGraph.Ints("perm", 0, 3, 1, 2));
    }
}
