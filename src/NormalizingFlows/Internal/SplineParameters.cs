using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Internal;

/// <summary>Maps unconstrained spline parameters to bin sizes and knot derivatives; argument checks shared by the splines.</summary>
internal static class SplineParameters
{
    /// <summary>Checks the bin count and the minimum constants of a spline.</summary>
    public static void Check(int bins, int minimumBins, double minBinWidth, double minBinHeight, double minDerivative)
    {
        if (bins < minimumBins) throw new ArgumentOutOfRangeException(nameof(bins), bins, $"bins must be at least {minimumBins}; got {bins}.");
        CheckMinimum(minBinWidth, bins, nameof(minBinWidth));
        CheckMinimum(minBinHeight, bins, nameof(minBinHeight));
        if (!(minDerivative > 0 && minDerivative < 1))
            throw new ArgumentOutOfRangeException(nameof(minDerivative), minDerivative, $"minDerivative must lie in (0, 1); got {minDerivative}.");
    }

    private static void CheckMinimum(double value, int bins, string paramName)
    {
        if (!(value > 0) || !(value * bins < 1))
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{paramName} must be positive and {paramName} * bins below 1 (bins = {bins}); got {value}.");
    }

    /// <summary>The shift <c>c</c> with <c>minDerivative + softplus(c) = 1</c>, so that a zero parameter gives slope 1.</summary>
    public static double DerivativeShift(double minDerivative) => Math.Log(Math.Exp(1.0 - minDerivative) - 1.0);

    /// <summary>Checks that the parameters are <c>[...input.shape, count]</c>.</summary>
    public static void CheckShape(Tensor input, Tensor parameters, int count)
    {
        bool ok = parameters.dim() == input.dim() + 1 && parameters.size(-1) == count;
        for (int i = 0; ok && i < input.dim(); i++) ok = parameters.size(i) == input.size(i);
        if (!ok)
            throw new ArgumentException(
                $"Expected parameters with shape {Guard.Shape(Append(input.shape, count))} (the input's shape and {count} per feature); got {Guard.Shape(parameters.shape)}.",
                nameof(parameters));
    }

    /// <summary>Bin sizes that are at least <paramref name="minimum"/> and sum to one: <c>minimum + (1 - K minimum) softmax(raw)</c>.</summary>
    public static Tensor Sizes(Tensor raw, double minimum)
    {
        long bins = raw.size(-1);
        using var scale = (1.0 - minimum * bins).ToScalar();
        using var minimumScalar = minimum.ToScalar();
        return raw.softmax(-1).mul(scale).add(minimumScalar, Scalars.One);
    }

    /// <summary>Knot derivatives <c>minimum + softplus(raw + shift)</c> (1 for a zero parameter).</summary>
    public static Tensor Derivatives(Tensor raw, double minimum, double shift)
    {
        using var shiftScalar = shift.ToScalar();
        using var minimumScalar = minimum.ToScalar();
        return StableMath.Softplus(raw.add(shiftScalar, Scalars.One)).add(minimumScalar, Scalars.One);
    }

    /// <summary>The shape with one more trailing dimension.</summary>
    public static long[] Append(long[] shape, long last)
    {
        var result = new long[shape.Length + 1];
        shape.CopyTo(result, 0);
        result[^1] = last;
        return result;
    }
}
