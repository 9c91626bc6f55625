using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NormalizingFlows.Kernels;

/// <summary>
/// <see cref="Bijectors.LuLinear"/> for a few features: both directions are one affine map per row, <c>out = A in + c</c>.
/// Forward: <c>A = P L U</c>, <c>c = P b</c>; inverse: <c>A = (L U)^-1 P^-1</c>, <c>c = -(L U)^-1 b</c>, the factors and the
/// inverse formed once per call in double precision (a few dozen operations on a <c>D x D</c> matrix) instead of a dozen libtorch
/// calls and two triangular solves over the batch. With gradients the layer is one autograd node (<see cref="LuLinearFunction"/>)
/// whose backward takes the map's gradient back through the inverse and the factors by hand.
/// </summary>
internal static class FusedLuLinear
{
    /// <summary>The most features the kernel takes (the planner's limit); wider layers are matrix products that libtorch's BLAS
    /// does better.</summary>
    public const int MaximumFeatures = 16;

    /// <summary>The layer's output and log-det through the kernel, as its plan says (<see cref="FusedLayers"/>):
    /// <paramref name="weights"/> are its current lower, upper, raw diagonal and bias (CPU tensors of <paramref name="x"/>'s dtype),
    /// <paramref name="track"/> whether autograd tracks the call (then one autograd node).</summary>
    public static (Tensor Output, Tensor LogAbsDet) Apply(Tensor[] weights, IReadOnlyList<long>? order, Tensor x, bool inverse, bool track)
    {
        var (lower, upper, diagonal, bias) = (weights[0], weights[1], weights[2], weights[3]);
        if (track)
        {
            var outputs = LuLinearFunction.apply(new Call(order, inverse, x.requires_grad), x, lower, upper, diagonal, bias);
            return (outputs[0], outputs[1]);
        }
        return Evaluate(x, lower, upper, diagonal, bias, order, inverse);
    }

    /// <summary>Output and log-det of <paramref name="x"/> (no autograd).</summary>
    internal static (Tensor Output, Tensor LogAbsDet) Evaluate(Tensor x, Tensor lower, Tensor upper, Tensor diagonal, Tensor bias,
        IReadOnlyList<long>? order, bool inverse) => Evaluate(x, Factor(lower, upper, diagonal, bias, order, inverse));

    /// <summary>Output and log-det of <paramref name="x"/> under factors already formed (no autograd).</summary>
    internal static (Tensor Output, Tensor LogAbsDet) Evaluate(Tensor x, LuFactors factors)
    {
        var input = x.contiguous();
        var y = torch.empty_like(input);
        var ld = torch.empty(input.size(0), dtype: input.dtype);
        int rows = (int)input.size(0);
        if (x.dtype == ScalarType.Float32) new LuLinearStage<float>(factors).Apply(TensorMemory.Span<float>(input), TensorMemory.Span<float>(y), TensorMemory.Span<float>(ld), rows);
        else new LuLinearStage<double>(factors).Apply(TensorMemory.Span<double>(input), TensorMemory.Span<double>(y), TensorMemory.Span<double>(ld), rows);
        return (y, ld);
    }

    /// <summary>The factors of the layer's current parameters for one direction.</summary>
    internal static LuFactors Factor(Tensor lower, Tensor upper, Tensor diagonal, Tensor bias, IReadOnlyList<long>? order, bool inverse) =>
        Map(Values(lower), Values(upper), Values(diagonal), Values(bias), order, inverse);

    /// <summary>A parameter's values in double precision, read straight from its (float32 or float64) CPU buffer.</summary>
    private static double[] Values(Tensor p)
    {
        // A parameter is contiguous unless a caller re-pointed it; a contiguous copy made for it is freed here, not left to the
        // caller's dispose scope for every step.
        using var copy = p.is_contiguous() ? null : p.contiguous();
        var contiguous = copy ?? p;
        var values = new double[checked((int)contiguous.numel())];
        if (contiguous.dtype == ScalarType.Float32)
        {
            var source = TensorMemory.Span<float>(contiguous);
            for (int i = 0; i < values.Length; i++) values[i] = source[i];
        }
        else TensorMemory.Span<double>(contiguous).CopyTo(values);
        return values;
    }

    /// <summary>What a call of the autograd node needs besides its tensors.</summary>
    internal sealed record Call(IReadOnlyList<long>? Order, bool Inverse, bool InputGradient);

    /// <summary>The per-row map <c>(A row-major, c)</c>, the log-det of this direction and the factors behind them.</summary>
    internal static LuFactors Map(double[] lower, double[] upper, double[] diagonal, double[] bias, IReadOnlyList<long>? order, bool inverse)
    {
        int d = bias.Length;
        var l = new double[d * d];
        var u = new double[d * d];
        double logDet = 0;
        for (int i = 0; i < d; i++)
        {
            double di = StableMath.Softplus(diagonal[i]);
            logDet += Math.Log(di);
            l[i * d + i] = 1;
            u[i * d + i] = di;
            for (int j = 0; j < i; j++) l[i * d + j] = lower[i * d + j];
            for (int j = i + 1; j < d; j++) u[i * d + j] = upper[i * d + j];
        }
        var a = new double[d * d];
        var c = new double[d];
        if (!inverse)
        {
            // Row i of the output is row order[i] of L U x + b.
            for (int i = 0; i < d; i++)
            {
                int source = order is null ? i : (int)order[i];
                c[i] = bias[source];
                for (int k = 0; k < d; k++)
                {
                    double sum = 0;
                    for (int m = 0; m <= Math.Min(source, k); m++) sum += l[source * d + m] * u[m * d + k];
                    a[i * d + k] = sum;
                }
            }
            return new LuFactors(l, u, null, a, c, logDet, diagonal, bias);
        }
        // Q = U^-1 L^-1, column by column: solve L z = e_k, then U q = z.
        var q = new double[d * d];
        var z = new double[d];
        for (int k = 0; k < d; k++)
        {
            for (int i = 0; i < d; i++)
            {
                double sum = i == k ? 1 : 0;
                for (int m = 0; m < i; m++) sum -= l[i * d + m] * z[m];
                z[i] = sum;
            }
            for (int i = d - 1; i >= 0; i--)
            {
                double sum = z[i];
                for (int m = i + 1; m < d; m++) sum -= u[i * d + m] * q[m * d + k];
                q[i * d + k] = sum / u[i * d + i];
            }
        }
        // x_j = sum_k Q[j, k] (y[inverseOrder[k]] - b[k]) = sum_m Q[j, order[m]] y[m] - (Q b)_j.
        for (int j = 0; j < d; j++)
        {
            double qb = 0;
            for (int k = 0; k < d; k++) qb += q[j * d + k] * bias[k];
            c[j] = -qb;
            for (int m = 0; m < d; m++) a[j * d + m] = q[j * d + (order is null ? m : (int)order[m])];
        }
        return new LuFactors(l, u, q, a, c, -logDet, diagonal, bias);
    }
}

/// <summary>One direction of an LU layer in double precision, row-major <c>D x D</c> matrices.</summary>
/// <param name="L">Unit lower triangular factor.</param>
/// <param name="U">Upper triangular factor, diagonal <c>softplus(d)</c>.</param>
/// <param name="Q"><c>(L U)^-1</c> for the inverse direction; null forward.</param>
/// <param name="A">The per-row map's matrix.</param>
/// <param name="C">The per-row map's offset.</param>
/// <param name="LogDet">The log-det of every row.</param>
/// <param name="RawDiagonal">The parameter <c>d</c>.</param>
/// <param name="Bias">The bias <c>b</c>.</param>
internal sealed record LuFactors(double[] L, double[] U, double[]? Q, double[] A, double[] C, double LogDet, double[] RawDiagonal, double[] Bias);

/// <summary>What an LU layer's backward pass sums over rows, in double precision: <c>dA = G^T X</c> (row-major), <c>dc = sum G</c>
/// and the sum of the log-det's gradient; rows split into parts add up part by part (<see cref="Add"/>).</summary>
internal sealed class LuRowGradients(int features)
{
    /// <summary>The map's gradient <c>dA</c>, row-major <c>D x D</c>.</summary>
    public double[] Map { get; } = new double[features * features];

    /// <summary>The offset's gradient <c>dc</c>.</summary>
    public double[] Offset { get; } = new double[features];

    /// <summary>The sum of the log-det's gradient over the rows.</summary>
    public double LogDet { get; set; }

    /// <summary>Adds <paramref name="other"/>'s sums into these.</summary>
    public void Add(LuRowGradients other)
    {
        for (int i = 0; i < Map.Length; i++) Map[i] += other.Map[i];
        for (int i = 0; i < Offset.Length; i++) Offset[i] += other.Offset[i];
        LogDet += other.LogDet;
    }
}

/// <summary>The fused LU layer as one autograd node: inputs <c>(call, x, lower, upper, diagonal, bias)</c>, outputs
/// <c>(y, logAbsDet)</c>. Backward: with <c>G</c> the output's gradient, <c>dx = G A</c>, <c>dA = G^T X</c>, <c>dc = sum G</c>;
/// forward direction <c>dW = P^T dA</c>, <c>db = P^T dc</c>; inverse <c>dQ = dA P - dc b^T</c>, <c>db = -Q^T dc</c>,
/// <c>dW = -Q^T dQ Q^T</c>; then <c>dL = dW U^T</c> (strict lower part), <c>dU = L^T dW</c> (strict upper part; its diagonal
/// through softplus to <c>d</c>, with the log-det's <c>+-sigmoid(d) / softplus(d)</c>).</summary>
internal sealed class LuLinearFunction : MultiTensorFunction<LuLinearFunction>
{
    /// <inheritdoc />
    public override string Name => "FusedLuLinear";

    /// <inheritdoc />
    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var call = (FusedLuLinear.Call)vars[0];
        var x = ((Tensor)vars[1]).contiguous();
        var (lower, upper, diagonal, bias) = ((Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4], (Tensor)vars[5]);
        ctx.set_materialize_grads(false);
        var factors = FusedLuLinear.Factor(lower, upper, diagonal, bias, call.Order, call.Inverse);
        var (y, ld) = FusedLuLinear.Evaluate(x, factors);
        ctx.save_for_backward(new List<Tensor> { x });
        ctx.save_data("call", call);
        ctx.save_data("factors", factors);
        return new List<Tensor> { y, ld };
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grad_outputs)
    {
        var call = (FusedLuLinear.Call)ctx.get_data("call");
        var saved = ctx.get_saved_variables();
        var x = saved[0];
        var factors = (LuFactors)ctx.get_data("factors");
        var g = TensorMemory.Gradient(grad_outputs[0]);
        var gl = TensorMemory.Gradient(grad_outputs[1]);
        Tensor? inputGradient = call.InputGradient ? torch.empty_like(x) : null;
        var sums = new LuRowGradients(factors.C.Length);
        if (x.dtype == ScalarType.Float32) RowGradients<float>(factors, x, g, gl, inputGradient, sums);
        else RowGradients<double>(factors, x, g, gl, inputGradient, sums);
        var gradients = new List<Tensor> { null!, inputGradient! };
        gradients.AddRange(ParameterTensors(call.Order, call.Inverse, factors, sums, x.dtype));
        return gradients;
    }

    private static void RowGradients<T>(LuFactors f, Tensor x, Tensor? g, Tensor? gl, Tensor? inputGradient, LuRowGradients sums)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        RowGradients(f, TensorMemory.Span<T>(x), g is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(g),
            gl is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(gl), inputGradient is null ? Span<T>.Empty : TensorMemory.Span<T>(inputGradient), sums);

    /// <summary>The row-wise part of the backward pass over the rows of <paramref name="input"/> (row-major): adds
    /// <c>dA = G^T X</c>, <c>dc = sum G</c> and the sum of the log-det's gradient into <paramref name="sums"/> and writes
    /// <c>dx = G A</c> into <paramref name="inputGradient"/> (skipped when empty). An empty <paramref name="outputGradient"/> or
    /// <paramref name="logAbsDetGradient"/> is zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RowGradients<T>(LuFactors f, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logAbsDetGradient,
        Span<T> inputGradient, LuRowGradients sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = f.C.Length, rows = input.Length / d;
        var dA = sums.Map;
        var dc = sums.Offset;
        if (!outputGradient.IsEmpty)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < d; i++)
                {
                    double gi = double.CreateChecked(outputGradient[r * d + i]);
                    dc[i] += gi;
                    for (int k = 0; k < d; k++) dA[i * d + k] += gi * double.CreateChecked(input[r * d + k]);
                }
                if (inputGradient.IsEmpty) continue;
                for (int k = 0; k < d; k++)
                {
                    double sum = 0;
                    for (int i = 0; i < d; i++) sum += double.CreateChecked(outputGradient[r * d + i]) * f.A[i * d + k];
                    inputGradient[r * d + k] = T.CreateChecked(sum);
                }
            }
        }
        else
        {
            inputGradient.Clear();
        }
        foreach (var v in logAbsDetGradient) sums.LogDet += double.CreateChecked(v);
    }

    /// <summary>The parameters' gradients <c>(lower, upper, raw diagonal, bias)</c> as tensors of <paramref name="dtype"/> from the
    /// row sums of <see cref="RowGradients{T}(LuFactors, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, LuRowGradients)"/>.</summary>
    internal static Tensor[] ParameterTensors(IReadOnlyList<long>? order, bool inverse, LuFactors f, LuRowGradients sums, ScalarType dtype)
    {
        var values = ParameterValues(order, inverse, f, sums);
        return values.Select((v, i) => ToTensor(v, ParameterShape(f, i), dtype)).ToArray();
    }

    /// <summary>The shape of parameter <paramref name="weight"/> of <c>(lower, upper, raw diagonal, bias)</c>.</summary>
    internal static long[] ParameterShape(LuFactors f, int weight)
    {
        int d = f.C.Length;
        return weight < 2 ? new long[] { d, d } : new long[] { d };
    }

    /// <summary>The parameters' gradients <c>(lower, upper, raw diagonal, bias)</c> in double precision, row-major.</summary>
    internal static double[][] ParameterValues(IReadOnlyList<long>? order, bool inverse, LuFactors f, LuRowGradients sums)
    {
        var (dLower, dUpper, dDiagonal, dBias) = ParameterGradients(order, inverse, f, sums);
        return new[] { dLower, dUpper, dDiagonal, dBias };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double[] Lower, double[] Upper, double[] Diagonal, double[] Bias) ParameterGradients(IReadOnlyList<long>? order, bool inverse,
        LuFactors f, LuRowGradients sums)
    {
        int d = f.C.Length;
        var dA = sums.Map;
        var dc = sums.Offset;
        double logDetGradient = sums.LogDet;
        var dW = new double[d * d];
        var db = new double[d];
        if (!inverse)
        {
            // A = P W, c = P b: row i of A is row order[i] of W.
            for (int i = 0; i < d; i++)
            {
                int source = order is null ? i : (int)order[i];
                db[source] = dc[i];
                for (int k = 0; k < d; k++) dW[source * d + k] = dA[i * d + k];
            }
        }
        else
        {
            var q = f.Q!;
            // A[j, m] = Q[j, order[m]] and c = -Q b.
            var dQ = new double[d * d];
            for (int j = 0; j < d; j++)
            {
                for (int m = 0; m < d; m++) dQ[j * d + (order is null ? m : (int)order[m])] += dA[j * d + m];
                for (int k = 0; k < d; k++) dQ[j * d + k] -= dc[j] * f.Bias[k];
            }
            for (int k = 0; k < d; k++)
            {
                double sum = 0;
                for (int j = 0; j < d; j++) sum += q[j * d + k] * dc[j];
                db[k] = -sum;
            }
            // Q = W^-1: dW = -Q^T dQ Q^T.
            var t = new double[d * d];
            for (int i = 0; i < d; i++)
                for (int k = 0; k < d; k++)
                {
                    double sum = 0;
                    for (int j = 0; j < d; j++) sum += q[j * d + i] * dQ[j * d + k];
                    t[i * d + k] = sum;
                }
            for (int i = 0; i < d; i++)
                for (int k = 0; k < d; k++)
                {
                    double sum = 0;
                    for (int j = 0; j < d; j++) sum += t[i * d + j] * q[k * d + j];
                    dW[i * d + k] = -sum;
                }
        }
        // W = L U: dL = dW U^T (strict lower part is the parameter), dU = L^T dW (strict upper part; diagonal through softplus).
        var dLower = new double[d * d];
        var dUpper = new double[d * d];
        var dDiagonal = new double[d];
        for (int i = 0; i < d; i++)
        {
            for (int k = 0; k < i; k++)
            {
                double sum = 0;
                for (int j = k; j < d; j++) sum += dW[i * d + j] * f.U[k * d + j];
                dLower[i * d + k] = sum;
            }
            for (int k = i; k < d; k++)
            {
                double sum = 0;
                for (int j = i; j < d; j++) sum += f.L[j * d + i] * dW[j * d + k];
                if (k > i) dUpper[i * d + k] = sum;
                else
                {
                    double raw = f.RawDiagonal[i], sigmoid = 1 / (1 + Math.Exp(-raw));
                    double logDetSign = inverse ? -1 : 1;
                    dDiagonal[i] = sum * sigmoid + logDetSign * logDetGradient * sigmoid / f.U[i * d + i];
                }
            }
        }
        return (dLower, dUpper, dDiagonal, db);
    }

    /// <summary>Double-precision values as a tensor of <paramref name="shape"/> and <paramref name="dtype"/> (float32 rounded to
    /// nearest).</summary>
    internal static Tensor ToTensor(double[] values, long[] shape, ScalarType dtype)
    {
        var tensor = torch.empty(shape, dtype: dtype);
        if (dtype == ScalarType.Float32)
        {
            var target = TensorMemory.Span<float>(tensor);
            for (int i = 0; i < values.Length; i++) target[i] = (float)values[i];
        }
        else values.CopyTo(TensorMemory.Span<double>(tensor));
        return tensor;
    }
}
