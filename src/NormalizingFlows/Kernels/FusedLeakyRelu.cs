using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NormalizingFlows.Kernels;

/// <summary>
/// <see cref="Bijectors.LearnableLeakyRelu"/> in one pass: slope <c>a = softplus(r) + m</c> (one shared, or one per element of the
/// event). Forward: <c>y = a x</c> where <c>x &lt;= 0</c>, else <c>x</c>; log-det per row: <c>sum over x &lt;= 0 of log a</c>.
/// Inverse: <c>x = y / a</c> where <c>y &lt;= 0</c>; log-det: minus the same sum. With gradients it is one autograd node.
/// </summary>
internal static class FusedLeakyRelu
{
    /// <summary>The layer's output and log-det through the kernel, as its plan says (<see cref="FusedLayers"/>):
    /// <paramref name="rawSlope"/> is its current raw slope (a CPU tensor of <paramref name="x"/>'s dtype), <paramref name="track"/>
    /// whether autograd tracks the call (then one autograd node).</summary>
    public static (Tensor Output, Tensor LogAbsDet) Apply(Tensor rawSlope, double minimumSlope, Tensor x, bool inverse, bool track)
    {
        var call = new Call(minimumSlope, inverse, x.requires_grad);
        if (track)
        {
            var outputs = LeakyReluFunction.apply(call, x, rawSlope);
            return (outputs[0], outputs[1]);
        }
        var input = x.contiguous();
        var y = torch.empty_like(input);
        var ld = torch.empty(input.size(0), dtype: input.dtype);
        if (x.dtype == ScalarType.Float32) Run<float>(call, input, rawSlope.contiguous(), y, ld);
        else Run<double>(call, input, rawSlope.contiguous(), y, ld);
        return (y, ld);
    }

    /// <summary>The slopes <c>softplus(r) + m</c> of the raw parameters, in double precision.</summary>
    public static double[] Slopes<T>(ReadOnlySpan<T> raw, double minimumSlope) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var slopes = new double[raw.Length];
        for (int i = 0; i < raw.Length; i++) slopes[i] = StableMath.Softplus(double.CreateChecked(raw[i])) + minimumSlope;
        return slopes;
    }

    /// <summary>What multiplies a non-positive element in this direction: <c>a</c> forward, <c>1 / a</c> inverse.</summary>
    public static T[] Factors<T>(double[] slopes, bool inverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var factors = new T[slopes.Length];
        for (int e = 0; e < slopes.Length; e++) factors[e] = T.CreateChecked(inverse ? 1 / slopes[e] : slopes[e]);
        return factors;
    }

    /// <summary>The layer on <paramref name="x"/> (contiguous) into <paramref name="y"/> and <paramref name="ld"/>.</summary>
    internal static void Run<T>(Call call, Tensor x, Tensor rawSlope, Tensor y, Tensor ld) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = TensorMemory.Span<T>(x);
        int rows = (int)x.size(0), elements = rows == 0 ? 0 : input.Length / rows;
        var slopes = Slopes<T>(TensorMemory.Span<T>(rawSlope), call.MinimumSlope);
        if (rows == 0) return;
        new LeakyReluStage<T>(slopes, call.Inverse, elements).Apply(input, TensorMemory.Span<T>(y), TensorMemory.Span<T>(ld), rows);
    }

    /// <summary>What a call needs besides its tensors.</summary>
    internal sealed record Call(double MinimumSlope, bool Inverse, bool InputGradient);
}

/// <summary>The fused leaky ReLU as one autograd node: inputs <c>(call, x, r)</c>, outputs <c>(y, logAbsDet)</c>.</summary>
internal sealed class LeakyReluFunction : MultiTensorFunction<LeakyReluFunction>
{
    /// <inheritdoc />
    public override string Name => "FusedLeakyRelu";

    /// <inheritdoc />
    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var call = (FusedLeakyRelu.Call)vars[0];
        var x = ((Tensor)vars[1]).contiguous();
        var raw = ((Tensor)vars[2]).contiguous();
        ctx.set_materialize_grads(false);
        var y = torch.empty_like(x);
        var ld = torch.empty(x.size(0), dtype: x.dtype);
        if (x.dtype == ScalarType.Float32) FusedLeakyRelu.Run<float>(call, x, raw, y, ld);
        else FusedLeakyRelu.Run<double>(call, x, raw, y, ld);
        ctx.save_for_backward(new List<Tensor> { x, raw });
        ctx.save_data("call", call);
        return new List<Tensor> { y, ld };
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grad_outputs)
    {
        var call = (FusedLeakyRelu.Call)ctx.get_data("call");
        var saved = ctx.get_saved_variables();
        var x = saved[0];
        var raw = saved[1];
        var g = TensorMemory.Gradient(grad_outputs[0]);
        var gl = TensorMemory.Gradient(grad_outputs[1]);
        Tensor? inputGradient = call.InputGradient ? torch.empty_like(x) : null;
        var rawGradient = torch.empty_like(raw);
        if (x.dtype == ScalarType.Float32) Backward<float>(call, x, raw, g, gl, inputGradient, rawGradient);
        else Backward<double>(call, x, raw, g, gl, inputGradient, rawGradient);
        return new List<Tensor> { null!, inputGradient!, rawGradient };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward<T>(FusedLeakyRelu.Call call, Tensor x, Tensor raw, Tensor? g, Tensor? gl, Tensor? inputGradient, Tensor rawGradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rawValues = TensorMemory.Span<T>(raw);
        var slopes = FusedLeakyRelu.Slopes<T>(rawValues, call.MinimumSlope);
        int count = slopes.Length;
        var input = TensorMemory.Span<T>(x);
        var outputGradient = g is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(g);
        var logDetGradient = gl is null ? ReadOnlySpan<T>.Empty : TensorMemory.Span<T>(gl);
        var gx = inputGradient is null ? Span<T>.Empty : TensorMemory.Span<T>(inputGradient);
        int rows = (int)x.size(0), elements = rows == 0 ? 0 : input.Length / rows;
        var slopeGradient = new double[count];
        var factor = FusedLeakyRelu.Factors<T>(slopes, call.Inverse);
        for (int r = 0; r < rows; r++)
        {
            double gLogDet = logDetGradient.IsEmpty ? 0 : double.CreateChecked(logDetGradient[r]);
            int offset = r * elements;
            for (int e = 0; e < elements; e++)
            {
                T v = input[offset + e];
                T gv = outputGradient.IsEmpty ? T.Zero : outputGradient[offset + e];
                int s = count == 1 ? 0 : e;
                if (v <= T.Zero)
                {
                    if (!gx.IsEmpty) gx[offset + e] = gv * factor[s];
                    double a = slopes[s], value = double.CreateChecked(v), grad = double.CreateChecked(gv);
                    // Forward y = a v, log-det log a; inverse x = v / a, log-det -log a.
                    slopeGradient[s] += call.Inverse ? -grad * value / (a * a) - gLogDet / a : grad * value + gLogDet / a;
                }
                else if (!gx.IsEmpty)
                {
                    gx[offset + e] = gv;
                }
            }
        }
        var gr = TensorMemory.Span<T>(rawGradient);
        for (int e = 0; e < count; e++)
        {
            double r = double.CreateChecked(rawValues[e]);
            gr[e] = T.CreateChecked(slopeGradient[e] / (1 + Math.Exp(-r))); // d softplus / dr = sigmoid(r)
        }
    }
}
