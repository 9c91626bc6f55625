using System;
using NormalizingFlows.Onnx;

namespace NormalizingFlows.Transforms;

public sealed partial class CircularSpline : IOnnxElementwiseTransform
{
    OnnxStep IOnnxElementwiseTransform.ExportOnnx(OnnxGraph graph, string x, string parameters, bool inverse)
    {
        string widths = OnnxRationalQuadratic.Sizes(graph, graph.Narrow(parameters, 0, Bins, -1), Bins, MinBinWidth);
        string heights = OnnxRationalQuadratic.Sizes(graph, graph.Narrow(parameters, Bins, Bins, -1), Bins, MinBinHeight);
        string knots = graph.AddScalar(graph.Softplus(graph.AddScalar(graph.Narrow(parameters, 2 * Bins, Bins, -1), derivativeShift)), MinDerivative);
        string derivatives = graph.Concat(-1, knots, graph.Narrow(knots, 0, 1, -1));
        // Whole turns split off, so the spline sees [-pi, pi] only.
        string turns = graph.Scale(graph.Op("Floor", graph.Div(graph.AddScalar(x, Math.PI), graph.Scalar(TwoPi))), TwoPi);
        string angle = graph.Op("Clip", graph.Sub(x, turns), graph.Scalar(-Math.PI), graph.Scalar(Math.PI));
        var (output, logDerivative) = OnnxRationalQuadratic.Core(graph, angle, widths, heights, derivatives, Bins, -Math.PI, Math.PI, inverse);
        return new OnnxStep(graph.Add(output, turns), logDerivative);
    }
}
