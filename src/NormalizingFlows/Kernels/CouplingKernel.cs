using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Kernels;

/// <summary>The values of a fused coupling's parameters, copied out of their tensors for one call.</summary>
/// <param name="Weights">Per linear layer, the weight <c>[out, in]</c> row by row.</param>
/// <param name="Biases">Per linear layer, the bias <c>[out]</c>.</param>
/// <param name="Bounds">Per moved feature, the learned bound <c>c = exp(l)</c>; empty for the other maps.</param>
internal sealed record CouplingWeights<T>(T[][] Weights, T[][] Biases, T[] Bounds);

/// <summary>
/// What a fused coupling computed for a block of rows, column by column (<c>[unit][row]</c>, each column <see cref="Rows"/> long):
/// every layer's output (after its activation; the first is the pass-through input and the last the raw transform
/// parameters), and per moved feature <c>tanh(u / c)</c> (bounded maps), <c>exp(+-s)</c>, the moved input and output. Backward reads it.
/// </summary>
internal sealed class CouplingWork<T>
{
    public CouplingWork(CouplingPlan plan, int rows)
    {
        Rows = rows;
        Activations = new T[plan.Widths.Length][];
        for (int l = 0; l < plan.Widths.Length; l++) Activations[l] = new T[plan.Widths[l] * rows];
        int moved = plan.Moved.Length * rows;
        Tanh = new T[moved];
        Scale = new T[moved];
        MovedIn = new T[moved];
        MovedOut = new T[moved];
    }

    public int Rows { get; }
    public T[][] Activations { get; }
    public T[] Tanh { get; }
    public T[] Scale { get; }
    public T[] MovedIn { get; }
    public T[] MovedOut { get; }
}

/// <summary>
/// The arithmetic of a fused coupling (<see cref="CouplingPlan"/>) on rows of a row-major <c>[batch, features]</c> buffer.
/// Forward: <c>y_B = x_B exp(s) + t</c>, log-det <c>sum s</c>; inverse: <c>x_B = (y_B - t) exp(-s)</c>, log-det <c>-sum s</c>;
/// <c>(t, u)</c> per moved feature from the network on the pass-through features, <c>s</c> from <c>u</c> by the plan's map.
/// Columns are processed with <see cref="TensorPrimitives"/> (vectorised), so a block of rows costs a few hundred short vector
/// loops and no allocation beyond its <see cref="CouplingWork{T}"/>.
/// </summary>
internal static class CouplingKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T LeakySlope = T.CreateChecked(0.01);

    /// <summary>Runs rows <c>[start, start + work.Rows)</c> of <paramref name="x"/> through the coupling into <paramref name="y"/>
    /// and <paramref name="logAbsDet"/> (one value per row), keeping the intermediate values in <paramref name="work"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(CouplingPlan plan, CouplingWeights<T> weights, ReadOnlySpan<T> x, Span<T> y, Span<T> logAbsDet, int start,
        CouplingWork<T> work, bool inverse)
    {
        int n = work.Rows, d = plan.Features;
        var input = work.Activations[0];
        for (int i = 0; i < plan.Pass.Length; i++)
        {
            int column = plan.Pass[i];
            var target = input.AsSpan(i * n, n);
            Gather(x, start * d + column, d, target);
        }
        for (int l = 0; l < plan.Layers; l++)
        {
            int inWidth = plan.Widths[l], outWidth = plan.Widths[l + 1];
            var source = work.Activations[l];
            var output = work.Activations[l + 1];
            var w = weights.Weights[l];
            for (int k = 0; k < outWidth; k++)
            {
                var column = output.AsSpan(k * n, n);
                column.Fill(weights.Biases[l][k]);
                for (int i = 0; i < inWidth; i++)
                    TensorPrimitives.MultiplyAdd(source.AsSpan(i * n, n), w[k * inWidth + i], column, column);
            }
            if (l < plan.Layers - 1) Activate(plan.Activation, output.AsSpan(0, outWidth * n));
        }
        var raw = work.Activations[plan.Layers];
        var ld = logAbsDet.Slice(start, n);
        ld.Clear();
        for (int j = 0; j < plan.Moved.Length; j++)
        {
            int column = plan.Moved[j];
            var shift = raw.AsSpan(2 * j * n, n);
            var u = raw.AsSpan((2 * j + 1) * n, n);
            var tanh = work.Tanh.AsSpan(j * n, n);
            var scale = work.Scale.AsSpan(j * n, n);
            var movedIn = work.MovedIn.AsSpan(j * n, n);
            var movedOut = work.MovedOut.AsSpan(j * n, n);
            Gather(x, start * d + column, d, movedIn);
            LogScale(plan, weights, j, u, tanh, scale); // scale holds s
            if (inverse)
            {
                TensorPrimitives.Subtract(ld, scale, ld);
                TensorPrimitives.Negate(scale, scale);
                TensorPrimitives.Exp(scale, scale); // exp(-s)
                TensorPrimitives.Subtract(movedIn, shift, movedOut);
                TensorPrimitives.Multiply(movedOut, scale, movedOut);
            }
            else
            {
                TensorPrimitives.Add(ld, scale, ld);
                TensorPrimitives.Exp(scale, scale); // exp(s)
                TensorPrimitives.MultiplyAdd(movedIn, scale, shift, movedOut);
            }
            Scatter(movedOut, y, start * d + column, d);
        }
        for (int i = 0; i < plan.Pass.Length; i++)
        {
            int column = plan.Pass[i];
            for (int r = 0; r < n; r++) y[(start + r) * d + column] = x[(start + r) * d + column];
        }
    }

    /// <summary><c>column[r] = source[offset + r * stride]</c>.</summary>
    private static void Gather(ReadOnlySpan<T> source, int offset, int stride, Span<T> column)
    {
        if (offset + (long)(column.Length - 1) * stride >= source.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        ref T from = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), offset);
        for (int r = 0; r < column.Length; r++) column[r] = Unsafe.Add(ref from, r * stride);
    }

    /// <summary><c>target[offset + r * stride] = column[r]</c>.</summary>
    private static void Scatter(ReadOnlySpan<T> column, Span<T> target, int offset, int stride)
    {
        if (offset + (long)(column.Length - 1) * stride >= target.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        ref T to = ref Unsafe.Add(ref MemoryMarshal.GetReference(target), offset);
        for (int r = 0; r < column.Length; r++) Unsafe.Add(ref to, r * stride) = column[r];
    }

    /// <summary>Gradients of a loss through <see cref="Run"/> over all rows of <paramref name="work"/> (one block from row 0):
    /// from the output's and log-det's gradients (each may be empty: zero) to the input's (<paramref name="inputGradient"/>,
    /// skipped when empty) and every parameter's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(CouplingPlan plan, CouplingWeights<T> weights, CouplingWork<T> work, bool inverse,
        ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> logAbsDetGradient, Span<T> inputGradient,
        T[][] weightGradients, T[][] biasGradients, Span<T> logBoundGradient)
    {
        int n = work.Rows, d = plan.Features;
        int outWidth = plan.Widths[plan.Layers];
        var delta = new T[outWidth * n];
        var raw = work.Activations[plan.Layers];
        bool haveOutput = !outputGradient.IsEmpty, haveLogDet = !logAbsDetGradient.IsEmpty, wantInput = !inputGradient.IsEmpty;
        for (int j = 0; j < plan.Moved.Length; j++)
        {
            int column = plan.Moved[j];
            var u = raw.AsSpan((2 * j + 1) * n, n);
            var tanh = work.Tanh.AsSpan(j * n, n);
            var scale = work.Scale.AsSpan(j * n, n);
            var movedIn = work.MovedIn.AsSpan(j * n, n);
            var movedOut = work.MovedOut.AsSpan(j * n, n);
            var shiftGradient = delta.AsSpan(2 * j * n, n);
            var rawGradient = delta.AsSpan((2 * j + 1) * n, n);
            T bound = plan.LogScale == LogScaleKind.LearnedBound ? weights.Bounds[j] : T.CreateChecked(plan.Bound);
            T boundGradient = T.Zero;
            for (int r = 0; r < n; r++)
            {
                T g = haveOutput ? outputGradient[r * d + column] : T.Zero;
                T gl = haveLogDet ? logAbsDetGradient[r] : T.Zero;
                T e = scale[r];
                T gs;
                if (inverse)
                {
                    shiftGradient[r] = -g * e;
                    gs = -g * movedOut[r] - gl;
                }
                else
                {
                    shiftGradient[r] = g;
                    gs = g * movedIn[r] * e + gl;
                }
                if (wantInput) inputGradient[r * d + column] = g * e;
                if (plan.LogScale == LogScaleKind.Raw)
                {
                    rawGradient[r] = gs;
                }
                else
                {
                    T t = tanh[r], slope = T.One - t * t;
                    rawGradient[r] = gs * slope;
                    // s = c tanh(u / c): ds/dl = c ds/dc = c tanh(u / c) - u (1 - tanh^2(u / c)).
                    if (plan.LogScale == LogScaleKind.LearnedBound) boundGradient += gs * (bound * t - u[r] * slope);
                }
            }
            if (plan.LogScale == LogScaleKind.LearnedBound) logBoundGradient[j] = boundGradient;
        }
        for (int l = plan.Layers - 1; l >= 0; l--)
        {
            int inWidth = plan.Widths[l], width = plan.Widths[l + 1];
            var source = work.Activations[l];
            var w = weights.Weights[l];
            for (int k = 0; k < width; k++)
            {
                var dk = delta.AsSpan(k * n, n);
                biasGradients[l][k] = TensorPrimitives.Sum<T>(dk);
                for (int i = 0; i < inWidth; i++) weightGradients[l][k * inWidth + i] = TensorPrimitives.Dot<T>(dk, source.AsSpan(i * n, n));
            }
            var previous = new T[inWidth * n];
            for (int i = 0; i < inWidth; i++)
            {
                var p = previous.AsSpan(i * n, n);
                for (int k = 0; k < width; k++) TensorPrimitives.MultiplyAdd(delta.AsSpan(k * n, n), w[k * inWidth + i], p, p);
            }
            if (l > 0) ActivationBackward(plan.Activation, source.AsSpan(0, inWidth * n), previous);
            delta = previous;
        }
        if (!wantInput) return;
        for (int i = 0; i < plan.Pass.Length; i++)
        {
            int column = plan.Pass[i];
            var g = delta.AsSpan(i * n, n);
            for (int r = 0; r < n; r++) inputGradient[r * d + column] = (haveOutput ? outputGradient[r * d + column] : T.Zero) + g[r];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LogScale(CouplingPlan plan, CouplingWeights<T> weights, int j, ReadOnlySpan<T> u, Span<T> tanh, Span<T> scale)
    {
        switch (plan.LogScale)
        {
            case LogScaleKind.Raw:
                u.CopyTo(scale);
                break;
            default:
                T bound = plan.LogScale == LogScaleKind.LearnedBound ? weights.Bounds[j] : T.CreateChecked(plan.Bound);
                TensorPrimitives.Divide(u, bound, tanh);
                TensorPrimitives.Tanh<T>(tanh, tanh);
                TensorPrimitives.Multiply(tanh, bound, scale);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Activate(Activation activation, Span<T> values)
    {
        switch (activation)
        {
            case Activation.Relu:
                TensorPrimitives.Max(values, T.Zero, values);
                break;
            case Activation.Tanh:
                TensorPrimitives.Tanh<T>(values, values);
                break;
            default:
                for (int i = 0; i < values.Length; i++) if (!(values[i] > T.Zero)) values[i] *= LeakySlope;
                break;
        }
    }

    /// <summary>Multiplies <paramref name="gradient"/> by the activation's derivative, read off its output <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ActivationBackward(Activation activation, ReadOnlySpan<T> output, Span<T> gradient)
    {
        switch (activation)
        {
            case Activation.Relu:
                for (int i = 0; i < gradient.Length; i++) if (!(output[i] > T.Zero)) gradient[i] = T.Zero;
                break;
            case Activation.Tanh:
                for (int i = 0; i < gradient.Length; i++) gradient[i] *= T.One - output[i] * output[i];
                break;
            default:
                for (int i = 0; i < gradient.Length; i++) if (!(output[i] > T.Zero)) gradient[i] *= LeakySlope;
                break;
        }
    }
}
