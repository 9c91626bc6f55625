using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NormalizingFlows.Internal;
using NormalizingFlows.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>
/// <see cref="Bijectors.LuLinear"/> without gradients, for a few features: both directions are one affine map per row,
/// <c>out = A in + c</c>. Forward: <c>A = P L U</c>, <c>c = P b</c>; inverse: <c>A = (L U)^-1 P^-1</c>, <c>c = -(L U)^-1 b</c>,
/// the factors and the inverse formed once per call in double precision (a few dozen operations on a <c>D x D</c> matrix)
/// instead of a dozen libtorch calls and two triangular solves over the batch.
/// </summary>
internal static class FusedLuLinear
{
    /// <summary>The most features the kernel takes; wider layers are matrix products that libtorch's BLAS does better.</summary>
    public const int MaximumFeatures = 16;

    /// <summary>The layer's output and log-det through the kernel, or null when this call cannot use it (kernels off, gradients
    /// needed, more than <see cref="MaximumFeatures"/> features, or a tensor that is not a float32/float64 CPU matrix of the
    /// parameters' dtype).</summary>
    public static (Tensor Output, Tensor LogAbsDet)? TryApply(Tensor x, Tensor lower, Tensor upper, Tensor diagonal, Tensor bias,
        IReadOnlyList<long>? order, bool inverse)
    {
        if (!FusedKernels.Enabled) return null;
        var parameters = new[] { lower, upper, diagonal, bias };
        // Training (gradients on, parameters trainable) is the common case that must leave quickly.
        if (torch.is_grad_enabled() && (Array.Exists(parameters, p => p.requires_grad) || x.requires_grad)) return null;
        if (x.dim() != 2 || x.shape[1] > MaximumFeatures || !TensorMemory.IsReadable(x)) return null;
        foreach (var p in parameters)
            if (p.dtype != x.dtype || p.device_type != DeviceType.CPU) return null;
        var input = x.contiguous();
        var y = torch.empty_like(input);
        var ld = torch.empty(input.shape[0], dtype: input.dtype);
        var (a, c, logDet) = Map(TensorMemory.Span<double>(Double(lower)), TensorMemory.Span<double>(Double(upper)),
            TensorMemory.Span<double>(Double(diagonal)), TensorMemory.Span<double>(Double(bias)), order, inverse);
        if (x.dtype == ScalarType.Float32) Apply<float>(a, c, logDet, input, y, ld);
        else Apply<double>(a, c, logDet, input, y, ld);
        return (y, ld);
    }

    private static Tensor Double(Tensor p) => p.detach().to(ScalarType.Float64).contiguous();

    /// <summary>The per-row map <c>(A row-major, c)</c> and the log-det of this direction.</summary>
    internal static (double[] A, double[] C, double LogDet) Map(ReadOnlySpan<double> lower, ReadOnlySpan<double> upper,
        ReadOnlySpan<double> diagonal, ReadOnlySpan<double> bias, IReadOnlyList<long>? order, bool inverse)
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
            return (a, c, logDet);
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
        return (a, c, -logDet);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Apply<T>(double[] map, double[] offset, double logDet, Tensor x, Tensor y, Tensor ld)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = offset.Length;
        var a = new T[map.Length];
        var c = new T[d];
        for (int i = 0; i < map.Length; i++) a[i] = T.CreateChecked(map[i]);
        for (int i = 0; i < d; i++) c[i] = T.CreateChecked(offset[i]);
        var input = TensorMemory.Span<T>(x);
        var output = TensorMemory.Span<T>(y);
        TensorMemory.Span<T>(ld).Fill(T.CreateChecked(logDet));
        int rows = (int)x.shape[0];
        if (input.Length < rows * d || output.Length < rows * d) throw new ArgumentException("Buffers of mismatched sizes.");
        ref T from = ref MemoryMarshal.GetReference(input);
        ref T to = ref MemoryMarshal.GetReference(output);
        if (d == 2)
        {
            T a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3], c0 = c[0], c1 = c[1];
            for (int r = 0; r < rows; r++)
            {
                T x0 = Unsafe.Add(ref from, 2 * r), x1 = Unsafe.Add(ref from, 2 * r + 1);
                Unsafe.Add(ref to, 2 * r) = a00 * x0 + a01 * x1 + c0;
                Unsafe.Add(ref to, 2 * r + 1) = a10 * x0 + a11 * x1 + c1;
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            ref T row = ref Unsafe.Add(ref from, r * d);
            for (int i = 0; i < d; i++)
            {
                T sum = c[i];
                for (int k = 0; k < d; k++) sum += a[i * d + k] * Unsafe.Add(ref row, k);
                Unsafe.Add(ref to, r * d + i) = sum;
            }
        }
    }
}
