using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Reorders the features of each row by a fixed permutation.
/// Forward: <c>y[i] = x[order[i]]</c>; log-det: 0.
/// Inverse: <c>x[order[i]] = y[i]</c>; log-det: 0.
/// Create one with an explicit order, <see cref="Reverse"/> or <see cref="Random(int, Generator?)"/>.
/// </summary>
public sealed partial class Permutation : Bijector
{
    private readonly Tensor indices;
    private readonly Tensor inverseIndices;
    private readonly long[] order;

    /// <summary>Creates the permutation <c>y[i] = x[order[i]]</c>.</summary>
    /// <param name="order">A permutation of <c>0 .. n-1</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="order"/> is not a permutation.</exception>
    public Permutation(IReadOnlyList<long> order) : base(nameof(Permutation), new[] { (long)Checked(order).Count })
    {
        this.order = order.ToArray();
        var inverse = new long[this.order.Length];
        for (int i = 0; i < this.order.Length; i++) inverse[this.order[i]] = i;
        indices = torch.tensor(this.order, dtype: ScalarType.Int64).DetachFromDisposeScope();
        inverseIndices = torch.tensor(inverse, dtype: ScalarType.Int64).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>The order: output feature <c>i</c> is input feature <c>Order[i]</c>.</summary>
    public IReadOnlyList<long> Order => order;

    /// <summary>The permutation that reverses the order of <paramref name="features"/> features.</summary>
    public static Permutation Reverse(int features)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), features, $"features must be at least 1; got {features}.");
        return new Permutation(Enumerable.Range(0, features).Select(i => (long)(features - 1 - i)).ToArray());
    }

    /// <summary>A uniformly random permutation of <paramref name="features"/> features.</summary>
    /// <param name="features">Number of features.</param>
    /// <param name="generator">Generator for reproducible permutations; null uses TorchSharp's default generator.</param>
    public static Permutation Random(int features, Generator? generator = null)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), features, $"features must be at least 1; got {features}.");
        using var order = torch.randperm(features, ScalarType.Int64, generator: generator);
        return new Permutation(order.data<long>().ToArray());
    }

    /// <summary>A uniformly random permutation of <paramref name="features"/> features drawn from <paramref name="seed"/>.</summary>
    public static Permutation Random(int features, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return Random(features, generator);
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) =>
        (x.index_select(1, indices), torch.zeros(x.size(0), dtype: x.dtype, device: x.device));

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) =>
        (y.index_select(1, inverseIndices), torch.zeros(y.size(0), dtype: y.dtype, device: y.device));

    private static IReadOnlyList<long> Checked(IReadOnlyList<long> order)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (order.Count == 0) throw new ArgumentException("A permutation needs at least one feature; got an empty order.", nameof(order));
        var seen = new bool[order.Count];
        for (int i = 0; i < order.Count; i++)
        {
            long v = order[i];
            if (v < 0 || v >= order.Count || seen[v])
                throw new ArgumentException($"order must be a permutation of 0..{order.Count - 1}; entry {i} is {v}.", nameof(order));
            seen[v] = true;
        }
        return order;
    }
}
