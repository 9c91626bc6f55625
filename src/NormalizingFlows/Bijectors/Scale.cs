using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Multiplies every feature by a positive scale, stored as its logarithm <c>s</c> so that it stays positive while it trains.
/// Forward: <c>y = x * exp(s)</c>; log-det: <c>sum(s)</c>.
/// Inverse: <c>x = y * exp(-s)</c>; log-det: <c>-sum(s)</c>.
/// The diagonal scaling layer of Dinh et al., "NICE: Non-linear independent components estimation" (2015).
/// </summary>
public sealed partial class Scale : ElementwiseBijector
{
    // A Parameter when learnable, a buffer otherwise.
    private readonly Tensor logScale;

    /// <summary>Creates a learnable scale on <paramref name="features"/> features, starting at 1 (the identity).</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Scale(int features) : this(FeatureShape(features))
    {
    }

    /// <summary>Creates a learnable scale on events of any shape (one value per element), starting at 1.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public Scale(IReadOnlyList<long> eventShape) : base(nameof(Scale), CopyShape(eventShape))
    {
        logScale = new Parameter(torch.zeros(eventShape.ToArray()).DetachFromDisposeScope());
        IsLearnable = true;
        RegisterComponents();
    }

    /// <summary>Creates a scale with the given values, one per feature.</summary>
    /// <param name="scale">The scale of each feature; every value positive and finite.</param>
    /// <param name="learnable">True to train the values (through their logarithm), false to keep them fixed.</param>
    /// <exception cref="ArgumentException">A value is not positive and finite, or there are none.</exception>
    public Scale(IReadOnlyList<double> scale, bool learnable = false) : base(nameof(Scale), FeatureShape(CheckValues(scale).Count))
    {
        var values = torch.tensor(scale.Select(v => Math.Log(v)).ToArray(), dtype: ScalarType.Float32).DetachFromDisposeScope();
        logScale = learnable ? new Parameter(values) : values;
        IsLearnable = learnable;
        RegisterComponents();
    }

    /// <summary>Whether the scale is trainable.</summary>
    public bool IsLearnable { get; }

    /// <summary>The current scale <c>exp(s)</c>, detached (the caller owns it).</summary>
    public Tensor Value() => logScale.detach().exp();

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (x.mul(logScale.exp()), logScale.alias());

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y) =>
        (y.mul(logScale.neg().exp()), logScale.neg());

    private static IReadOnlyList<double> CheckValues(IReadOnlyList<double> scale)
    {
        ArgumentNullException.ThrowIfNull(scale);
        if (scale.Count == 0) throw new ArgumentException("Expected at least one scale value; got none.", nameof(scale));
        for (int i = 0; i < scale.Count; i++)
            if (!(scale[i] > 0) || double.IsInfinity(scale[i]))
                throw new ArgumentException($"scale[{i}] must be positive and finite; got {scale[i]}.", nameof(scale));
        return scale;
    }
}
