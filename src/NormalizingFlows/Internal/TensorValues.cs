using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>
/// Reads the number in a one-element tensor without TorchSharp's <c>ToDouble()</c>, <c>ToInt64()</c> and
/// <c>ToBoolean()</c>, which read it through a temporary <see cref="Scalar"/> (see <see cref="Scalars"/>).
/// </summary>
internal static class TensorValues
{
    /// <summary>Whether every element of <paramref name="x"/> is finite. A contiguous float32 or float64 CPU tensor is scanned in
    /// place (<c>v - v</c> is 0 for a finite <c>v</c> and NaN otherwise, summed lane by lane): libtorch's <c>isfinite().all()</c>
    /// makes a temporary of the input's size (<c>abs</c>, then a boolean tensor), which on a first call page-faulted in and took
    /// a sixth of a 32-feature flow's 100 000-point log-density. Other tensors go to libtorch.</summary>
    public static bool AllFinite(Tensor x)
    {
        if (x.device_type == DeviceType.CPU && x.is_contiguous() && x.numel() < int.MaxValue)
        {
            if (x.dtype == ScalarType.Float32) return AllFinite(Kernels.TensorMemory.Span<float>(x));
            if (x.dtype == ScalarType.Float64) return AllFinite(Kernels.TensorMemory.Span<double>(x));
        }
        using var finite = x.isfinite();
        using var all = finite.all();
        return ToBoolean(all);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool AllFinite<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0, n = values.Length, lanes = Vector<T>.Count;
        var sum = Vector<T>.Zero;
        for (; i <= n - lanes; i += lanes)
        {
            var v = new Vector<T>(values.Slice(i));
            sum += v - v;
        }
        T tail = T.Zero;
        for (; i < n; i++) tail += values[i] - values[i];
        return Vector.EqualsAll(sum, Vector<T>.Zero) && tail == T.Zero;
    }

    /// <summary>The value of a one-element tensor of any real or boolean dtype, on any device, as a double.</summary>
    public static double ToDouble(Tensor value)
    {
        if (value.device_type != DeviceType.CPU)
        {
            using var host = value.cpu();
            return ToDouble(host);
        }
        return value.dtype switch
        {
            ScalarType.Float32 => value.item<float>(),
            ScalarType.Float64 => value.item<double>(),
            ScalarType.Int64 => value.item<long>(),
            ScalarType.Int32 => value.item<int>(),
            ScalarType.Int16 => value.item<short>(),
            ScalarType.Int8 => value.item<sbyte>(),
            ScalarType.Byte => value.item<byte>(),
            ScalarType.Bool => value.item<bool>() ? 1.0 : 0.0,
            ScalarType.Float16 => (double)value.item<System.Half>(),
            _ => Converted(value),
        };
    }

    /// <summary>The value of a one-element integer (or boolean) tensor as a long.</summary>
    public static long ToInt64(Tensor value)
    {
        if (value.device_type != DeviceType.CPU)
        {
            using var host = value.cpu();
            return ToInt64(host);
        }
        return value.dtype switch
        {
            ScalarType.Int64 => value.item<long>(),
            ScalarType.Int32 => value.item<int>(),
            ScalarType.Int16 => value.item<short>(),
            ScalarType.Int8 => value.item<sbyte>(),
            ScalarType.Byte => value.item<byte>(),
            ScalarType.Bool => value.item<bool>() ? 1 : 0,
            _ => checked((long)ToDouble(value)),
        };
    }

    /// <summary>The value of a one-element boolean tensor (any other dtype: whether it is non-zero).</summary>
    public static bool ToBoolean(Tensor value)
    {
        if (value.device_type != DeviceType.CPU)
        {
            using var host = value.cpu();
            return ToBoolean(host);
        }
        return value.dtype == ScalarType.Bool ? value.item<bool>() : ToDouble(value) != 0;
    }

    private static double Converted(Tensor value)
    {
        using var wide = value.to(ScalarType.Float64);
        return wide.item<double>();
    }
}
