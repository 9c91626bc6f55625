using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Elementwise exponential: maps the real line onto the positive half-line.
/// Forward: <c>y = exp(x)</c>; log-det: <c>sum(x)</c>.
/// Inverse: <c>x = log(y)</c>; log-det: <c>-sum(log y)</c>.
/// As TFP's and distrax's <c>Exp</c> bijector (e.g. Papamakarios et al., "Normalizing flows for probabilistic modeling and inference", 2021, section 2).
/// </summary>
/// <remarks>The inverse needs <c>y &gt; 0</c>; <c>y = 0</c> gives <c>-inf</c>. Forward overflows to <c>inf</c> past <c>log(max float)</c> (about 88.7 in float32).</remarks>
public sealed partial class Exp : ElementwiseBijector
{
    /// <summary>Creates the map on <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Exp(int features) : base(nameof(Exp), FeatureShape(features))
    {
    }

    /// <summary>Creates the map on events of any shape.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public Exp(IReadOnlyList<long> eventShape) : base(nameof(Exp), CopyShape(eventShape))
    {
    }

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (x.exp(), x.alias());

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y)
    {
        var logY = y.log();
        return (logY, logY.neg());
    }
}
