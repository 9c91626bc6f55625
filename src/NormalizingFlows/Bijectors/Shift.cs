using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Adds a shift to every feature, learnable or fixed.
/// Forward: <c>y = x + b</c>; log-det: <c>0</c>.
/// Inverse: <c>x = y - b</c>; log-det: <c>0</c>.
/// As TFP's and distrax's <c>Shift</c> bijector; the location half of an affine layer (Dinh et al., "NICE", 2015).
/// </summary>
public sealed partial class Shift : ElementwiseBijector
{
    // A Parameter when learnable, a buffer otherwise (RegisterComponents tells them apart by runtime type).
    private readonly Tensor shift;

    /// <summary>Creates a learnable shift on <paramref name="features"/> features, starting at zero (the identity).</summary>
    /// <param name="features">Number of features; at least 1.</param>
    public Shift(int features) : this(FeatureShape(features))
    {
    }

    /// <summary>Creates a learnable shift on events of any shape (one value per element), starting at zero.</summary>
    /// <param name="eventShape">Shape of one event, e.g. <c>[channels, height, width]</c>.</param>
    public Shift(IReadOnlyList<long> eventShape) : base(nameof(Shift), CopyShape(eventShape))
    {
        shift = new Parameter(torch.zeros(eventShape.ToArray()).DetachFromDisposeScope());
        IsLearnable = true;
        RegisterComponents();
    }

    /// <summary>Creates a shift with the given values, one per feature.</summary>
    /// <param name="shift">The shift of each feature; every value finite.</param>
    /// <param name="learnable">True to train the values (a parameter), false to keep them fixed (a buffer).</param>
    /// <exception cref="ArgumentException">A value is not finite, or there are none.</exception>
    public Shift(IReadOnlyList<double> shift, bool learnable = false) : base(nameof(Shift), FeatureShape(CheckValues(shift).Count))
    {
        var values = torch.tensor(shift.ToArray(), dtype: ScalarType.Float32).DetachFromDisposeScope();
        this.shift = learnable ? new Parameter(values) : values;
        IsLearnable = learnable;
        RegisterComponents();
    }

    /// <summary>Whether the shift is a trainable parameter.</summary>
    public bool IsLearnable { get; }

    /// <summary>The current shift, detached (the caller owns it).</summary>
    public Tensor Value() => shift.detach().clone();

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x) =>
        (x.add(shift, Scalars.One), torch.zeros(1, dtype: x.dtype, device: x.device));

    /// <inheritdoc />
    protected override (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y) =>
        (y.sub(shift), torch.zeros(1, dtype: y.dtype, device: y.device));

    private static IReadOnlyList<double> CheckValues(IReadOnlyList<double> shift)
    {
        ArgumentNullException.ThrowIfNull(shift);
        if (shift.Count == 0) throw new ArgumentException("Expected at least one shift value; got none.", nameof(shift));
        for (int i = 0; i < shift.Count; i++)
            if (!double.IsFinite(shift[i])) throw new ArgumentException($"shift[{i}] must be finite; got {shift[i]}.", nameof(shift));
        return shift;
    }
}
