using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using NormalizingFlows.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// An invertible linear layer in LU form, optionally followed by a fixed permutation of the outputs.
/// Forward: <c>y = P (L U x + b)</c> with <c>L</c> unit lower triangular, <c>U</c> upper triangular with a
/// positive diagonal <c>softplus(d)</c>, <c>P</c> a fixed permutation; log-det: <c>sum(log diag U)</c>.
/// Inverse: <c>x = U^-1 L^-1 (P^-1 y - b)</c> by two triangular solves; log-det: <c>-sum(log diag U)</c>.
/// Starts as the identity (apart from the permutation). Kingma and Dhariwal, "Glow" (2018).
/// </summary>
public sealed partial class LuLinear : Bijector, IFusableLayer
{
    private static readonly double IdentityDiagonal = Math.Log(Math.E - 1.0);

    private readonly Parameter lower;
    private readonly Parameter upper;
    private readonly Parameter diagonal;
    private readonly Parameter bias;
    private readonly Tensor identity;
    private readonly Tensor? permutation;
    private readonly Tensor? inversePermutation;
    private readonly long[]? outputOrder;

    /// <summary>Creates an LU linear layer that starts as the identity.</summary>
    /// <param name="features">Number of features.</param>
    /// <param name="permutation">Order of the outputs (<c>y[i] = (LUx + b)[permutation[i]]</c>); null for none.</param>
    public LuLinear(int features, IReadOnlyList<long>? permutation = null) : base(nameof(LuLinear), new[] { (long)features })
    {
        Guard.Features(features, nameof(features));
        lower = new Parameter(torch.zeros(features, features).DetachFromDisposeScope());
        upper = new Parameter(torch.zeros(features, features).DetachFromDisposeScope());
        diagonal = new Parameter(torch.full(features, Scalars.Of(IdentityDiagonal)).DetachFromDisposeScope());
        bias = new Parameter(torch.zeros(features).DetachFromDisposeScope());
        identity = torch.eye(features).DetachFromDisposeScope();
        if (permutation is not null)
        {
            var checkedOrder = new Permutation(permutation);
            if (checkedOrder.Order.Count != features)
                throw new ArgumentException($"Expected a permutation of {features} features; got one of {checkedOrder.Order.Count}.", nameof(permutation));
            var inverse = new long[features];
            for (int i = 0; i < features; i++) inverse[checkedOrder.Order[i]] = i;
            outputOrder = checkedOrder.Order.ToArray();
            this.permutation = torch.tensor(outputOrder, dtype: ScalarType.Int64).DetachFromDisposeScope();
            inversePermutation = torch.tensor(inverse, dtype: ScalarType.Int64).DetachFromDisposeScope();
            checkedOrder.Dispose();
        }
        RegisterComponents();
    }

    /// <summary>Creates an LU linear layer followed by a random permutation drawn from <paramref name="generator"/>.</summary>
    public static LuLinear WithRandomPermutation(int features, Generator? generator = null)
    {
        Guard.Features(features, nameof(features));
        using var order = torch.randperm(features, ScalarType.Int64, generator: generator);
        return new LuLinear(features, order.data<long>().ToArray());
    }

    /// <summary>The order of the outputs given to the constructor (<c>y[i] = (LUx + b)[OutputOrder[i]]</c>), or null for none.</summary>
    internal IReadOnlyList<long>? OutputOrder => outputOrder;

    /// <summary>The weight matrix <c>L U</c> (without the permutation), detached from autograd.</summary>
    public Tensor Weight()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (l, u, _) = Factors();
        return scope.MoveToOuter(l.matmul(u));
    }

    private (Tensor Lower, Tensor Upper, Tensor LogDiagonal) Factors()
    {
        var d = StableMath.Softplus(diagonal);
        var l = lower.tril(-1).add(identity, Scalars.One);
        var u = upper.triu(1).add(torch.diag(d), Scalars.One);
        return (l, u, d.log());
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) =>
        FusedLayers.TryRun(this, x, inverse: false) ?? ApplyByOperations(x, inverse: false);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) =>
        FusedLayers.TryRun(this, y, inverse: true) ?? ApplyByOperations(y, inverse: true);

    /// <inheritdoc />
    LayerDescription? IFusableLayer.DescribeForKernels() =>
        new LuLinearDescription((int)EventShape[0], outputOrder, () => new Tensor[] { lower, upper, diagonal, bias });

    /// <summary>The layer as libtorch operations (the path with gradients, on every device and dtype; the fused kernel's
    /// reference).</summary>
    internal (Tensor Output, Tensor LogAbsDet) ApplyByOperations(Tensor x, bool inverse)
    {
        var (l, u, logDiagonal) = Factors();
        if (!inverse)
        {
            var y = nn.functional.linear(x, l.matmul(u), bias);
            if (permutation is not null) y = y.index_select(1, permutation);
            return (y, logDiagonal.sum().expand(x.size(0)));
        }
        var r = inversePermutation is null ? x : x.index_select(1, inversePermutation);
        r = r.sub(bias);
        // Rows are x^T: solve X (L U)^T = R, i.e. first X1 L^T = R, then X U^T = X1.
        var x1 = torch.linalg.solve_triangular(l.t(), r, upper: true, left: false, unitriangular: true);
        var solved = torch.linalg.solve_triangular(u.t(), x1, upper: false, left: false);
        return (solved, logDiagonal.sum().neg().expand(x.size(0)));
    }
}
