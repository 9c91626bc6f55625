using System;
using System.Linq;
using NormalizingFlows.Internal;
using NormalizingFlows.Onnx;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

public abstract partial class ElementwiseBijector
{
    /// <summary>The log-det of a log-derivative that does not depend on the input (a parameter of the event's shape, or one
    /// value for every element): its sum, repeated over the event, as a rank-0 constant.</summary>
    private protected OnnxStep ConstantLogDet(OnnxGraph graph, string output, Tensor logDerivative, bool negate)
    {
        long elements = EventShape.Aggregate(1L, (a, b) => a * b);
        double sum = TensorValues.ToDouble(logDerivative.detach().to(ScalarType.Float64).sum()) * ((double)elements / logDerivative.numel());
        return new OnnxStep(output, graph.Constant(new[] { negate ? -sum : sum }, Array.Empty<long>(), "log_det"));
    }

    /// <summary>A per-element log-derivative summed over each row's event.</summary>
    private protected static OnnxStep PerElementLogDet(OnnxGraph graph, string output, string logDerivative) =>
        new(output, graph.SumRows(logDerivative));
}
