using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Distributions;

/// <summary>
/// The uniform distribution on an axis-aligned box <c>[low_1, high_1] x ... x [low_D, high_D]</c> (fixed, no parameters).
/// <c>log p(x) = -sum_d log(high_d - low_d)</c> inside the box (edges included) and <c>-inf</c> outside it.
/// Sampling draws <c>x = low + (high - low) u</c> with <c>u ~ U[0, 1)^D</c>.
/// </summary>
/// <remarks>A flow on this base needs bijectors whose forward map accepts the box (e.g. bounded splines);
/// a standard normal base suits unbounded layers better.</remarks>
public sealed class BoxUniform : Distribution
{
    private readonly Tensor low;
    private readonly Tensor high;
    private readonly double logVolume;

    /// <summary>Creates the uniform distribution on the box with corners <paramref name="low"/> and <paramref name="high"/>.</summary>
    /// <param name="low">Lower edge per feature (finite).</param>
    /// <param name="high">Upper edge per feature (finite, above the lower edge).</param>
    /// <exception cref="ArgumentException">The edges are empty, of different lengths, not finite, or <c>high[i] &lt;= low[i]</c>.</exception>
    public BoxUniform(IReadOnlyList<double> low, IReadOnlyList<double> high)
        : base(nameof(BoxUniform), new[] { (long)Checked(low, high) })
    {
        var lo = low.ToArray();
        var hi = high.ToArray();
        logVolume = lo.Zip(hi, (a, b) => Math.Log(b - a)).Sum();
        LowValues = lo;
        HighValues = hi;
        this.low = torch.tensor(lo.Select(v => (float)v).ToArray()).DetachFromDisposeScope();
        this.high = torch.tensor(hi.Select(v => (float)v).ToArray()).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>The uniform distribution on the cube <c>[low, high]^features</c>.</summary>
    /// <param name="features">Number of dimensions.</param>
    /// <param name="low">Lower edge of every feature.</param>
    /// <param name="high">Upper edge of every feature.</param>
    public static BoxUniform Cube(int features, double low = 0.0, double high = 1.0)
    {
        Guard.Features(features, nameof(features));
        return new BoxUniform(Enumerable.Repeat(low, features).ToArray(), Enumerable.Repeat(high, features).ToArray());
    }

    /// <summary>The lower edges as given to the constructor.</summary>
    internal IReadOnlyList<double> LowValues { get; }

    /// <summary>The upper edges as given to the constructor.</summary>
    internal IReadOnlyList<double> HighValues { get; }

    /// <summary>The lower edges (a copy the caller owns).</summary>
    public Tensor Low => Snapshot.Copy(low);

    /// <summary>The upper edges (a copy the caller owns).</summary>
    public Tensor High => Snapshot.Copy(high);

    /// <inheritdoc />
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        var inside = x.ge(low).logical_and(x.le(high)).all(1);
        using var density = (-logVolume).ToScalar();
        var value = torch.full(new[] { x.size(0) }, density, dtype: x.dtype, device: x.device);
        return value.masked_fill(inside.logical_not(), Scalars.Of(double.NegativeInfinity));
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var x = SampleCore(count, context, generator);
        using var density = (-logVolume).ToScalar();
        return (x, torch.full(new[] { count }, density, dtype: x.dtype, device: x.device));
    }

    /// <inheritdoc />
    protected internal override Tensor SampleCore(long count, Tensor? context, Generator? generator)
    {
        var u = Draw.Uniform(new[] { count, EventSize }, low.dtype, low.device, generator);
        return torch.addcmul(low, u, high.sub(low), Scalars.Of(1.0));
    }

    private static int Checked(IReadOnlyList<double> low, IReadOnlyList<double> high)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (low.Count == 0) throw new ArgumentException("Expected at least one feature; low is empty.", nameof(low));
        if (high.Count != low.Count)
            throw new ArgumentException($"Expected high with {low.Count} values (one per feature, as low); got {high.Count}.", nameof(high));
        for (int i = 0; i < low.Count; i++)
        {
            if (!double.IsFinite(low[i])) throw new ArgumentException($"low[{i}] must be finite; got {low[i]}.", nameof(low));
            if (!double.IsFinite(high[i])) throw new ArgumentException($"high[{i}] must be finite; got {high[i]}.", nameof(high));
            if (!(high[i] > low[i]))
                throw new ArgumentException($"high[{i}] ({high[i]}) must exceed low[{i}] ({low[i]}).", nameof(high));
        }
        return low.Count;
    }
}
