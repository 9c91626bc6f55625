using System;

namespace NormalizingFlows.Onnx;

/// <summary>The monotonic rational-quadratic spline (Durkan et al. 2019) as ONNX nodes, step for step as
/// <c>Internal.RationalQuadratic</c> and <c>Internal.SplineParameters</c> compute it, with the identity (linear tails) outside
/// <c>[-bound, bound]</c>.</summary>
internal static class OnnxRationalQuadratic
{
    /// <summary><paramref name="input"/> is <c>[batch, features]</c>, <paramref name="parameters"/> <c>[batch, features, 3K - 1]</c>
    /// (K unnormalised widths, K heights, K - 1 interior derivatives); the log-derivative is per element.</summary>
    public static OnnxStep Apply(OnnxGraph graph, string input, string parameters, int bins, double bound,
        double minBinWidth, double minBinHeight, double minDerivative, double derivativeShift, bool inverse)
    {
        string widths = Sizes(graph, graph.Narrow(parameters, 0, bins, -1), bins, minBinWidth);
        string heights = Sizes(graph, graph.Narrow(parameters, bins, bins, -1), bins, minBinHeight);
        string interior = graph.AddScalar(graph.Softplus(graph.AddScalar(graph.Narrow(parameters, 2 * bins, bins - 1, -1), derivativeShift)), minDerivative);
        string derivatives = graph.Op("Pad", interior, graph.Int64s(new long[] { 0, 0, 1, 0, 0, 1 }, hint: "pads"), graph.Scalar(1.0));
        string inside = graph.Op("LessOrEqual", graph.Abs(input), graph.Scalar(bound));
        string clamped = graph.Op("Clip", input, graph.Scalar(-bound), graph.Scalar(bound));
        var (output, logDerivative) = Core(graph, clamped, widths, heights, derivatives, bins, -bound, bound, inverse);
        string insideAsNumber = graph.Op("Cast", new[] { inside }, OnnxGraph.Int("to", (long)graph.ElementType));
        return new OnnxStep(graph.Where(inside, output, input), graph.Mul(logDerivative, insideAsNumber));
    }

    /// <summary>The spline on <c>[left, right]</c> for a clamped input, given normalised widths and heights <c>[batch, features,
    /// K]</c> and knot derivatives <c>[batch, features, K + 1]</c>.</summary>
    public static (string Output, string LogDerivative) Core(OnnxGraph graph, string clamped, string widths, string heights, string derivatives,
        int bins, double left, double right, bool inverse)
    {
        var (xKnots, binWidths) = Knots(graph, widths, bins, left, right);
        var (yKnots, binHeights) = Knots(graph, heights, bins, left, right);
        // The bin: how many interior knots are at or below the value (always in [0, K - 1] inside the bounds).
        string bin;
        if (bins == 1)
        {
            bin = graph.Op("ConstantOfShape", new[] { graph.Op("Shape", graph.Reshape(clamped, 0, 0, 1)) }, new global::Onnx.AttributeProto
            {
                Name = "value",
                Type = global::Onnx.AttributeProto.Types.AttributeType.Tensor,
                T = Int64Zero(),
            });
        }
        else
        {
            string searched = graph.Narrow(inverse ? yKnots : xKnots, 1, bins - 1, -1);
            string atOrAbove = graph.Op("Cast", new[] { graph.Op("GreaterOrEqual", graph.Reshape(clamped, 0, 0, 1), searched) },
                OnnxGraph.Int("to", (long)global::Onnx.TensorProto.Types.DataType.Int64));
            bin = graph.Op("ReduceSum", new[] { atOrAbove, graph.Int64s(new[] { -1L }, hint: "axes") }, OnnxGraph.Int("keepdims", 1));
        }
        string next = graph.Op("Add", bin, graph.Int64s(new[] { 1L }, Array.Empty<long>(), "one"));
        string x0 = Pick(graph, xKnots, bin);
        string y0 = Pick(graph, yKnots, bin);
        string d0 = Pick(graph, derivatives, bin), d1 = Pick(graph, derivatives, next);
        // Width and height as differences of knots; the slope from the bin's own sizes (as the library does: see
        // Internal.RationalQuadratic.Cell).
        string y1 = Pick(graph, yKnots, next);
        string w = graph.Sub(Pick(graph, xKnots, next), x0), h = graph.Sub(y1, y0);
        string slope = graph.Div(Pick(graph, binHeights, bin), Pick(graph, binWidths, bin));
        string curvature = graph.Sub(graph.Add(d0, d1), graph.Scale(slope, 2.0));
        string output, logDerivative;
        if (!inverse)
        {
            string theta = graph.Op("Clip", graph.Div(graph.Sub(clamped, x0), w), graph.Scalar(0.0), graph.Scalar(1.0));
            string oneMinus = graph.Sub(graph.Scalar(1.0), theta);
            string cross = graph.Mul(theta, oneMinus);
            string thetaSquared = graph.Square(theta);
            string denominator = graph.Add(slope, graph.Mul(curvature, cross));
            string numerator = graph.Mul(graph.Add(graph.Mul(slope, thetaSquared), graph.Mul(d0, cross)), h);
            output = graph.Add(y0, graph.Div(numerator, denominator));
            logDerivative = LogDerivative(graph, slope, denominator, d0, d1, thetaSquared, cross, oneMinus);
        }
        else
        {
            string offset = graph.Sub(clamped, y0);
            // The discriminant as a sum of two non-negative terms, the root from the nearer end of the bin (see
            // Internal.RationalQuadratic.Inverse).
            string rest = graph.Sub(y1, clamped);
            string spread = graph.Square(graph.Sub(graph.Mul(d0, rest), graph.Mul(d1, offset)));
            string discriminant = graph.Max(graph.Add(spread, graph.Mul(graph.Scale(graph.Mul(graph.Mul(slope, offset), slope), 4.0), rest)), graph.Scalar(0.0));
            string squareRoot = graph.Op("Sqrt", discriminant);
            string fromBottom = Root(graph, offset, h, d0, curvature, slope, squareRoot);
            string fromTop = Root(graph, rest, h, d1, curvature, slope, squareRoot);
            string lower = graph.Op("LessOrEqual", fromBottom, graph.Scalar(0.5));
            string theta = graph.Op("Clip", graph.Where(lower, fromBottom, graph.Sub(graph.Scalar(1.0), fromTop)), graph.Scalar(0.0), graph.Scalar(1.0));
            string oneMinus = graph.Op("Clip", graph.Where(lower, graph.Sub(graph.Scalar(1.0), fromBottom), fromTop), graph.Scalar(0.0), graph.Scalar(1.0));
            output = graph.Add(x0, graph.Mul(theta, w));
            string cross = graph.Mul(theta, oneMinus);
            string denominator = graph.Add(slope, graph.Mul(curvature, cross));
            logDerivative = graph.Neg(LogDerivative(graph, slope, denominator, d0, d1, graph.Square(theta), cross, oneMinus));
        }
        return (output, logDerivative);
    }

    private static global::Onnx.TensorProto Int64Zero()
    {
        var tensor = new global::Onnx.TensorProto { DataType = (int)global::Onnx.TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(1);
        tensor.Int64Data.Add(0);
        return tensor;
    }

    /// <summary><c>softmax(raw) (1 - minimum K) + minimum</c> over the last axis.</summary>
    public static string Sizes(OnnxGraph graph, string raw, int bins, double minimum) =>
        graph.AddScalar(graph.Scale(graph.Op("Softmax", new[] { raw }, OnnxGraph.Int("axis", -1)), 1.0 - minimum * bins), minimum);

    /// <summary>Knots <c>[batch, features, K + 1]</c>: 0-padded cumulative sums scaled so the last is exactly 1, then mapped
    /// onto <c>[left, right]</c>; and the bin sizes <c>[batch, features, K]</c> divided by the same total and scaled alike.</summary>
    private static (string Knots, string Sizes) Knots(OnnxGraph graph, string sizes, int bins, double left, double right)
    {
        // libtorch's CPU cumsum accumulates float32 in double and rounds each partial sum once; so does this graph (a float32
        // running sum drifts by an ulp per bin, and a narrow bin's width, a difference of two knots, then by 1e-5 relative).
        string cumulative = graph.Float64
            ? graph.Op("CumSum", sizes, graph.Int64s(new[] { -1L }, Array.Empty<long>(), "axis"))
            : graph.Op("Cast", new[] { graph.Op("CumSum", graph.Op("Cast", new[] { sizes }, OnnxGraph.Int("to", (long)global::Onnx.TensorProto.Types.DataType.Double)),
                    graph.Int64s(new[] { -1L }, Array.Empty<long>(), "axis")) }, OnnxGraph.Int("to", (long)global::Onnx.TensorProto.Types.DataType.Float));
        string total = graph.Narrow(cumulative, bins - 1, 1, -1);
        cumulative = graph.Div(cumulative, total);
        string padded = graph.Op("Pad", cumulative, graph.Int64s(new long[] { 0, 0, 1, 0, 0, 0 }, hint: "pads"), graph.Scalar(0.0));
        return (graph.AddScalar(graph.Scale(padded, right - left), left), graph.Scale(graph.Div(sizes, total), right - left));
    }

    private static string Pick(OnnxGraph graph, string table, string index) =>
        graph.Reshape(graph.Op("GatherElements", new[] { table, index }, OnnxGraph.Int("axis", -1)), 0, 0);

    /// <summary>The root of the bin's quadratic from one end (<c>near</c>: the value's distance from that end's knot, <c>derivative</c>:
    /// the knot derivative there), as Internal.RationalQuadratic computes it.</summary>
    private static string Root(OnnxGraph graph, string near, string h, string derivative, string curvature, string slope, string squareRoot)
    {
        string b = graph.Add(graph.Neg(graph.Mul(near, curvature)), graph.Mul(h, derivative));
        return graph.Div(graph.Scale(graph.Mul(slope, near), 2.0), graph.Add(b, squareRoot));
    }

    private static string LogDerivative(OnnxGraph graph, string slope, string denominator, string d0, string d1, string thetaSquared, string cross, string oneMinus)
    {
        string inner = graph.Add(graph.Add(graph.Mul(d1, thetaSquared), graph.Scale(graph.Mul(slope, cross), 2.0)), graph.Mul(d0, graph.Square(oneMinus)));
        return graph.Log(graph.Mul(graph.Square(graph.Div(slope, denominator)), inner));
    }
}
