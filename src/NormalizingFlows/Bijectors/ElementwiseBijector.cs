using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Base class of bijectors that act on every scalar of an event on its own: <c>y_i = g(x_i)</c>.
/// Forward: <c>y_i = g(x_i)</c>; log-det: <c>sum_i log|g'(x_i)|</c> over the event.
/// Inverse: <c>x_i = g^-1(y_i)</c>; log-det: <c>-sum_i log|g'(x_i)|</c> over the event.
/// Implementers give the map and its elementwise log-derivative in each direction; this class sums the
/// log-derivatives over the event (any event shape: <c>[features]</c> or an image's <c>[channels, height, width]</c>).
/// </summary>
public abstract partial class ElementwiseBijector : Bijector
{
    /// <summary>Creates an elementwise bijector on events of the given shape.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="eventShape">Shape of one event, e.g. <c>[features]</c>.</param>
    protected ElementwiseBijector(string name, IReadOnlyList<long> eventShape) : base(name, eventShape)
    {
    }

    /// <summary>
    /// The forward map on each element and <c>log|dy/dx|</c> of each element. The log-derivative may have the
    /// input's shape or any shape that broadcasts to it (a per-feature constant, for example).
    /// </summary>
    /// <param name="x">Input <c>[batch, ...EventShape]</c>.</param>
    protected abstract (Tensor Output, Tensor LogDerivative) ForwardElementwise(Tensor x);

    /// <summary>
    /// The inverse map on each element and <c>log|dx/dy|</c> of each element (same broadcasting rule as
    /// <see cref="ForwardElementwise"/>).
    /// </summary>
    /// <param name="y">Input <c>[batch, ...EventShape]</c>.</param>
    protected abstract (Tensor Output, Tensor LogDerivative) InverseElementwise(Tensor y);

    /// <inheritdoc />
    protected internal sealed override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        if (Fused(x, inverse: false) is { } fused) return fused;
        var (output, logDerivative) = ForwardElementwise(x);
        return (output, SumOverEvent(logDerivative, x));
    }

    /// <inheritdoc />
    protected internal sealed override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        if (Fused(y, inverse: true) is { } fused) return fused;
        var (output, logDerivative) = InverseElementwise(y);
        return (output, SumOverEvent(logDerivative, y));
    }

    /// <summary>One direction from <see cref="ForwardElementwise"/> or <see cref="InverseElementwise"/>, never a fused kernel (the
    /// kernels' reference in the tests).</summary>
    internal (Tensor Output, Tensor LogAbsDet) ByOperations(Tensor x, bool inverse)
    {
        var (output, logDerivative) = inverse ? InverseElementwise(x) : ForwardElementwise(x);
        return (output, SumOverEvent(logDerivative, x));
    }

    /// <summary>The output and summed log-det of one direction from a fused kernel of the library's own (see
    /// <see cref="Runtime.FusedKernels"/>), or null to compute them from <see cref="ForwardElementwise"/> or
    /// <see cref="InverseElementwise"/>.</summary>
    private protected virtual (Tensor Output, Tensor LogAbsDet)? Fused(Tensor x, bool inverse) => null;

    /// <summary>Checks a feature count and returns the event shape <c>[features]</c>.</summary>
    /// <param name="features">Number of features; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="features"/> is below 1.</exception>
    protected static long[] FeatureShape(int features)
    {
        if (features <= 0)
            throw new ArgumentOutOfRangeException(nameof(features), features, $"features must be at least 1; got {features}.");
        return new[] { (long)features };
    }

    /// <summary>Copies an event shape given by a caller, rejecting null.</summary>
    /// <param name="eventShape">The shape.</param>
    protected static long[] CopyShape(IReadOnlyList<long> eventShape)
    {
        ArgumentNullException.ThrowIfNull(eventShape);
        return eventShape.ToArray();
    }

    private static Tensor SumOverEvent(Tensor logDerivative, Tensor input)
    {
        long batch = input.size(0);
        if (logDerivative.dim() < input.dim())
        {
            // Constant over the batch: sum once, then repeat per row.
            long elements = input.numel() / batch;
            long given = logDerivative.numel();
            var perEvent = logDerivative.sum();
            if (given != elements)
            {
                using var repeats = ((double)elements / given).ToScalar();
                perEvent = perEvent.mul(repeats);
            }
            return perEvent.expand(batch).clone();
        }
        if (!logDerivative.shape.SequenceEqual(input.shape)) logDerivative = logDerivative.expand(input.shape);
        return logDerivative.reshape(batch, -1).sum(1);
    }
}
