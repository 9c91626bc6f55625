using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Swaps the directions of another bijector: Forward is the wrapped inverse and Inverse the wrapped forward.
/// Forward: <c>y = g^-1(x)</c>; log-det: the wrapped inverse log-det.
/// Inverse: <c>x = g(y)</c>; log-det: the wrapped forward log-det.
/// An inverse autoregressive flow is <c>new Invert(maskedAutoregressive)</c>. The shapes swap too: the wrapped
/// <see cref="Bijector.OutputShape"/> is this one's <see cref="Bijector.EventShape"/> (they differ only for reshaping layers such as <see cref="Squeeze"/>).
/// </summary>
public sealed partial class Invert : Bijector
{
    private readonly Bijector inner;

    /// <summary>Wraps <paramref name="bijector"/> with its directions swapped.</summary>
    public Invert(Bijector bijector)
        : base(nameof(Invert), (bijector ?? throw new ArgumentNullException(nameof(bijector))).OutputShape, bijector.EventShape, bijector.ContextFeatures)
    {
        inner = bijector;
        RegisterComponents();
    }

    /// <summary>The wrapped bijector.</summary>
    public Bijector Inner => inner;

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) => inner.InverseCore(x, context);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) => inner.ForwardCore(y, context);
}
