using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace NormalizingFlows.Kernels;

/// <summary>
/// <see cref="Transforms.RationalQuadraticSpline"/> in one pass per element: the parameter maps (softmax bin sizes, softplus knot
/// derivatives), the knots, the bin search, the bin's rational-quadratic map or its stable root, the log-derivative and the
/// identity tails, computed in double precision in C# instead of some fifty libtorch operations (and as many again backward),
/// whose per-call cost dominates at a training batch. With gradients it is one autograd node whose forward pass keeps each
/// element's evaluation (bin, knots, theta, shares) and whose backward differentiates it by hand (<see cref="SplineFunction"/>).
/// The formulas are those of <see cref="Internal.RationalQuadratic"/>, which stays the reference (the tests hold the two to 1e-12
/// in float64, values and gradients, where the map is well conditioned).
/// </summary>
internal static class FusedSpline
{
    /// <summary>Elements below which a call runs on the calling thread only.</summary>
    private const int ParallelElements = 16384;

    /// <summary>The spline's constants, fixed for its life.</summary>
    internal sealed record Call(int Bins, double Bound, double MinBinWidth, double MinBinHeight, double MinDerivative, double DerivativeShift, bool Inverse);

    /// <summary>The spline's output and log-det for <paramref name="input"/> (any shape) and <paramref name="parameters"/>
    /// (<c>[...input.shape, 3K - 1]</c>, the same dtype, both on the CPU): one autograd node where autograd tracks either.</summary>
    public static (Tensor Output, Tensor LogAbsDet) Apply(Call call, Tensor input, Tensor parameters)
    {
        if (torch.is_grad_enabled() && (input.requires_grad || parameters.requires_grad))
        {
            var outputs = SplineFunction.apply(call, input, parameters);
            return (outputs[0], outputs[1]);
        }
        var x = input.contiguous();
        var p = parameters.contiguous();
        var y = torch.empty_like(x);
        var ld = torch.empty_like(x);
        if (x.dtype == ScalarType.Float32) Run<float>(call, x, p, y, ld, null, null, null, null, null);
        else Run<double>(call, x, p, y, ld, null, null, null, null, null);
        return (y, ld);
    }

    /// <summary>
    /// Every element of <paramref name="x"/>: its output and log-det into <paramref name="y"/> and <paramref name="ld"/> (either may
    /// be null), and with output gradients (<paramref name="gy"/>, <paramref name="gl"/>, either null for zero) the input's gradient
    /// into <paramref name="gx"/> and the parameters' into <paramref name="gp"/>. All tensors contiguous, of element type
    /// <typeparamref name="T"/>. <paramref name="state"/> (float64, <see cref="StateSize"/> per element), where given, receives each
    /// element's evaluation on the way forward and gives it back on the way back instead of evaluating again. Large calls are shared
    /// out among libtorch's threads (<see cref="OpenMpTeam"/>).
    /// </summary>
    internal static void Run<T>(Call call, Tensor x, Tensor p, Tensor? y, Tensor? ld, Tensor? gy, Tensor? gl, Tensor? gx, Tensor? gp, Tensor? state)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = checked((int)x.numel());
        if (count == 0) return;
        int threads = count >= ParallelElements && OpenMpTeam.Available ? Math.Min(torch.get_num_threads(), count / (ParallelElements / 2)) : 1;
        if (threads <= 1)
        {
            Range<T>(call, x, p, y, ld, gy, gl, gx, gp, state, 0, count);
            return;
        }
        OpenMpTeam.Run(threads, (thread, team) =>
        {
            long start = (long)count * thread / team, end = (long)count * (thread + 1) / team;
            Range<T>(call, x, p, y, ld, gy, gl, gx, gp, state, (int)start, (int)end);
        });
    }

    /// <summary>The doubles an element's evaluation keeps for its backward pass (<see cref="Element.Save"/>).</summary>
    internal static int StateSize(int bins) => Element.Fields + 2 * bins;

    /// <summary>Elements whose softmax exponentials one vectorised call (<see cref="VectorExp"/>) computes.</summary>
    private const int Chunk = 128;

    /// <summary><c>exp(raw - max)</c> of the widths' and the heights' raw parameters of <paramref name="count"/> elements from
    /// <paramref name="first"/> on, each group shifted by its own maximum, into <paramref name="exponentials"/> (2K per element).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Exponentials<T>(int bins, ReadOnlySpan<T> raw, int size, int first, int count, Span<double> exponentials)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int e = 0; e < count; e++)
        {
            var parameters = raw.Slice((first + e) * size, 2 * bins);
            var target = exponentials.Slice(e * 2 * bins, 2 * bins);
            for (int group = 0; group < 2; group++)
            {
                double max = double.NegativeInfinity;
                for (int i = 0; i < bins; i++) max = Math.Max(max, double.CreateChecked(parameters[group * bins + i]));
                for (int i = 0; i < bins; i++) target[group * bins + i] = double.CreateChecked(parameters[group * bins + i]) - max;
            }
        }
        var used = exponentials.Slice(0, count * 2 * bins);
        VectorExp.Exp<double>(used, used);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Range<T>(Call call, Tensor x, Tensor p, Tensor? y, Tensor? ld, Tensor? gy, Tensor? gl, Tensor? gx, Tensor? gp, Tensor? state, int start, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = 3 * call.Bins - 1;
        var input = TensorMemory.Span<T>(x);
        var raw = TensorMemory.Span<T>(p);
        var output = y is null ? Span<T>.Empty : TensorMemory.Span<T>(y);
        var logDet = ld is null ? Span<T>.Empty : TensorMemory.Span<T>(ld);
        var outputGradient = gy is null ? Span<T>.Empty : TensorMemory.Span<T>(gy);
        var logDetGradient = gl is null ? Span<T>.Empty : TensorMemory.Span<T>(gl);
        var inputGradient = gx is null ? Span<T>.Empty : TensorMemory.Span<T>(gx);
        var rawGradient = gp is null ? Span<T>.Empty : TensorMemory.Span<T>(gp);
        bool backward = gp is not null;
        var saved = state is null ? Span<double>.Empty : TensorMemory.Span<double>(state);
        int stateSize = StateSize(call.Bins);
        bool restore = backward && !saved.IsEmpty;
        Span<double> scratch = call.Bins <= 64 ? stackalloc double[Element.Scratch(call.Bins)] : new double[Element.Scratch(call.Bins)];
        var element = new Element(call, scratch);
        // The softmax's exponentials of a chunk of elements in one vectorised call (they are most of an element's arithmetic).
        int pair = 2 * call.Bins;
        var exponentials = restore ? Array.Empty<double>() : new double[Math.Min(Chunk, end - start) * pair];
        for (int i = start; i < end; i++)
        {
            double v = double.CreateChecked(input[i]);
            if (restore)
            {
                element.Restore(saved.Slice(i * stateSize, stateSize));
            }
            else
            {
                int slot = (i - start) % Chunk;
                if (slot == 0) Exponentials(call.Bins, raw, size, i, Math.Min(Chunk, end - i), exponentials);
                element.Load(exponentials.AsSpan(slot * pair, pair), raw.Slice(i * size, size));
                element.Evaluate(v, out double value, out double logDerivative);
                if (!output.IsEmpty) output[i] = T.CreateChecked(value);
                if (!logDet.IsEmpty) logDet[i] = T.CreateChecked(logDerivative);
                if (!saved.IsEmpty) element.Save(saved.Slice(i * stateSize, stateSize));
            }
            if (!backward) continue;
            double g = outputGradient.IsEmpty ? 0 : double.CreateChecked(outputGradient[i]);
            double gLogDet = logDetGradient.IsEmpty ? 0 : double.CreateChecked(logDetGradient[i]);
            var gradient = rawGradient.Slice(i * size, size);
            double gv = element.Differentiate(v, g, gLogDet, gradient);
            if (!inputGradient.IsEmpty) inputGradient[i] = T.CreateChecked(gv);
        }
    }

    /// <summary>
    /// One element's spline: <see cref="Load"/> maps its raw parameters, <see cref="Evaluate"/> gives the value and log-derivative,
    /// <see cref="Differentiate"/> (after <see cref="Evaluate"/>, or <see cref="Restore"/> of what <see cref="Save"/> kept) their gradients. Bin fractions are <c>w_i = m + (1 - K m) a_i</c>
    /// with <c>a = softmax(raw)</c>; knot <c>j</c> is <c>left + span C_j / T</c> with <c>C_j</c> the sum of the first <c>j</c>
    /// fractions and <c>T</c> all of them (as <see cref="Internal.RationalQuadratic"/> computes it, so that the last knot is exactly
    /// the bound). Every quantity hangs on the fractions only through <c>w / T</c>, which does not change when all fractions
    /// scale together; the softmax's Jacobian removes any gradient along that direction, so the backward pass may treat
    /// <c>T</c> as a constant.
    /// </summary>
    private ref struct Element
    {
        private readonly Call call;
        private readonly Span<double> widthShares, heightShares, widthGradient, heightGradient;
        private readonly Span<double> derivatives;
        private readonly Span<double> widthSums, heightSums;
        private double widthTotal, heightTotal;
        private bool inside;
        private int bin;
        private double x0, binWidth, y0, binHeight, d0, d1, slope, widthFraction, heightFraction;
        private double top, thetaRaw, theta, oneMinus, root;
        private bool fromTop;

        /// <summary>The doubles of scratch space an element of <paramref name="bins"/> bins needs.</summary>
        public static int Scratch(int bins) => 7 * bins + 2;

        public Element(Call call, Span<double> scratch)
        {
            this.call = call;
            int k = call.Bins;
            widthShares = scratch.Slice(0, k);
            heightShares = scratch.Slice(k, k);
            widthGradient = scratch.Slice(2 * k, k);
            heightGradient = scratch.Slice(3 * k, k);
            derivatives = scratch.Slice(4 * k, k);
            widthSums = scratch.Slice(5 * k, k + 1);
            heightSums = scratch.Slice(6 * k + 1, k + 1);
            widthTotal = heightTotal = 0;
            inside = false;
            bin = 0;
            x0 = binWidth = y0 = binHeight = d0 = d1 = slope = widthFraction = heightFraction = top = thetaRaw = theta = oneMinus = root = 0;
            fromTop = false;
        }

        /// <summary>The softmax shares of the widths and heights (from their exponentials, <see cref="Exponentials"/>) and the raw
        /// derivative parameters of one element.</summary>
        public void Load<T>(ReadOnlySpan<double> exponentials, ReadOnlySpan<T> raw) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int k = call.Bins;
            Normalise(exponentials.Slice(0, k), widthShares);
            Normalise(exponentials.Slice(k, k), heightShares);
            for (int j = 0; j < k - 1; j++) derivatives[j] = double.CreateChecked(raw[2 * k + j]);
        }

        private static void Normalise(ReadOnlySpan<double> exponentials, Span<double> shares)
        {
            double sum = 0;
            for (int i = 0; i < exponentials.Length; i++) sum += exponentials[i];
            double reciprocal = 1 / sum;
            for (int i = 0; i < exponentials.Length; i++) shares[i] = exponentials[i] * reciprocal;
        }

        /// <summary>The scalars <see cref="Save"/> writes before the shares.</summary>
        public const int Fields = 21;

        /// <summary>Everything <see cref="Differentiate"/> reads, after <see cref="Evaluate"/>: <see cref="Fields"/> scalars, then the
        /// width and height shares.</summary>
        public readonly void Save(Span<double> state)
        {
            int k = call.Bins;
            state[0] = inside ? 1 : 0;
            state[1] = bin;
            state[2] = x0;
            state[3] = binWidth;
            state[4] = y0;
            state[5] = binHeight;
            state[6] = d0;
            state[7] = d1;
            state[8] = slope;
            state[9] = widthFraction;
            state[10] = heightFraction;
            state[11] = top;
            state[12] = thetaRaw;
            state[13] = theta;
            state[14] = oneMinus;
            state[15] = root;
            state[16] = fromTop ? 1 : 0;
            state[17] = widthTotal;
            state[18] = heightTotal;
            state[19] = bin >= 1 ? derivatives[bin - 1] : 0;
            state[20] = bin + 1 <= k - 1 ? derivatives[bin] : 0;
            widthShares.CopyTo(state.Slice(Fields, k));
            heightShares.CopyTo(state.Slice(Fields + k, k));
        }

        /// <summary>The element as <see cref="Save"/> left it, ready for <see cref="Differentiate"/>.</summary>
        public void Restore(ReadOnlySpan<double> state)
        {
            int k = call.Bins;
            inside = state[0] != 0;
            bin = (int)state[1];
            x0 = state[2];
            binWidth = state[3];
            y0 = state[4];
            binHeight = state[5];
            d0 = state[6];
            d1 = state[7];
            slope = state[8];
            widthFraction = state[9];
            heightFraction = state[10];
            top = state[11];
            thetaRaw = state[12];
            theta = state[13];
            oneMinus = state[14];
            root = state[15];
            fromTop = state[16] != 0;
            widthTotal = state[17];
            heightTotal = state[18];
            if (bin >= 1) derivatives[bin - 1] = state[19];
            if (bin + 1 <= k - 1) derivatives[bin] = state[20];
            state.Slice(Fields, k).CopyTo(widthShares);
            state.Slice(Fields + k, k).CopyTo(heightShares);
        }

        private readonly double Derivative(int knot) =>
            knot == 0 || knot == call.Bins ? 1.0 : call.MinDerivative + StableMath.Softplus(derivatives[knot - 1] + call.DerivativeShift);

        /// <summary>The spline's value at <paramref name="v"/> and its log-derivative (forward), or the inverse's value and its
        /// log-derivative (inverse); outside the interval the identity and 0.</summary>
        public void Evaluate(double v, out double value, out double logDerivative)
        {
            double bound = call.Bound, span = 2 * bound, left = -bound;
            inside = Math.Abs(v) <= bound;
            if (!inside)
            {
                value = v;
                logDerivative = double.IsNaN(v) ? double.NaN : 0;
                return;
            }
            int k = call.Bins;
            // The running sums of the fractions, both axes (the last is the total), summed in order as a cumulative sum is.
            double widthScale = 1 - k * call.MinBinWidth, heightScale = 1 - k * call.MinBinHeight;
            widthSums[0] = heightSums[0] = 0;
            for (int i = 0; i < k; i++)
            {
                widthSums[i + 1] = widthSums[i] + (call.MinBinWidth + widthScale * widthShares[i]);
                heightSums[i + 1] = heightSums[i] + (call.MinBinHeight + heightScale * heightShares[i]);
            }
            widthTotal = widthSums[k];
            heightTotal = heightSums[k];
            // Knot j is sums[j] span / total + left (a product by the scale rather than a quotient per knot: the two differ in the
            // last bit, and the last knot is set to the bound exactly below).
            double widthKnotScale = span / widthTotal, heightKnotScale = span / heightTotal;
            // The bin: the number of interior knots at or below the value, on the input's axis (counted without branches).
            var sums = call.Inverse ? heightSums : widthSums;
            double knotScale = call.Inverse ? heightKnotScale : widthKnotScale;
            bin = 0;
            for (int j = 1; j < k; j++) bin += v >= sums[j] * knotScale + left ? 1 : 0;
            heightFraction = call.MinBinHeight + heightScale * heightShares[bin];
            widthFraction = call.MinBinWidth + widthScale * widthShares[bin];
            x0 = widthSums[bin] * widthKnotScale + left;
            y0 = heightSums[bin] * heightKnotScale + left;
            double x1 = bin == k - 1 ? bound : widthSums[bin + 1] * widthKnotScale + left;
            double y1 = bin == k - 1 ? bound : heightSums[bin + 1] * heightKnotScale + left;
            binWidth = x1 - x0;
            binHeight = y1 - y0;
            slope = heightFraction * heightKnotScale / (widthFraction * widthKnotScale);
            d0 = Derivative(bin);
            d1 = Derivative(bin + 1);
            double curvature = d0 + d1 - 2 * slope;
            if (!call.Inverse)
            {
                thetaRaw = (v - x0) / binWidth;
                theta = Math.Clamp(thetaRaw, 0.0, 1.0);
                oneMinus = 1 - theta;
                double cross = theta * oneMinus;
                double denominator = slope + curvature * cross;
                value = y0 + (slope * theta * theta + d0 * cross) * binHeight / denominator;
                logDerivative = LogDerivative(denominator, cross);
                return;
            }
            // The stable root of the bin's quadratic from the nearer end of the bin, as RationalQuadratic.Inverse explains.
            top = y1;
            double offset = v - y0, rest = y1 - v;
            double t = d0 * rest - d1 * offset;
            double discriminant = Math.Max(t * t + 4 * (slope * offset * slope) * rest, 0.0);
            double squareRoot = Math.Sqrt(discriminant);
            root = 2 * (slope * offset) / (binHeight * d0 - offset * curvature + squareRoot);
            fromTop = !(root <= 0.5);
            if (!fromTop)
            {
                theta = Math.Clamp(root, 0.0, 1.0);
                oneMinus = Math.Clamp(1 - root, 0.0, 1.0);
            }
            else
            {
                root = 2 * (slope * rest) / (binHeight * d1 - rest * curvature + squareRoot);
                theta = Math.Clamp(1 - root, 0.0, 1.0);
                oneMinus = Math.Clamp(root, 0.0, 1.0);
            }
            value = x0 + theta * binWidth;
            double crossInverse = theta * oneMinus;
            logDerivative = -LogDerivative(slope + curvature * crossInverse, crossInverse);
        }

        private readonly double LogDerivative(double denominator, double cross)
        {
            double inner = d1 * theta * theta + 2 * slope * cross + d0 * oneMinus * oneMinus;
            double ratio = slope / denominator;
            return Math.Log(ratio * ratio * inner);
        }

        /// <summary>
        /// After <see cref="Evaluate"/> at <paramref name="v"/> (or <see cref="Restore"/>): the gradient of <c>g value + gLogDet logDerivative</c> with respect
        /// to the raw parameters into <paramref name="gradient"/> (overwritten), and with respect to <paramref name="v"/> returned.
        /// </summary>
        public readonly double Differentiate<T>(double v, double g, double gLogDet, Span<T> gradient) where T : unmanaged, IFloatingPointIeee754<T>
        {
            gradient.Clear();
            if (!inside) return g;
            double cross = theta * oneMinus;
            double curvature = d0 + d1 - 2 * slope;
            double denominator = slope + curvature * cross;
            double inner = d1 * theta * theta + 2 * slope * cross + d0 * oneMinus * oneMinus;
            double perInner = 1 / inner, perDenominator = 1 / denominator;
            // Partial derivatives of L = log((s / D)^2 I) at fixed theta, and along theta.
            double difference = oneMinus - theta; // 1 - 2 theta
            double dLogTheta = (2 * d1 * theta + 2 * slope * difference - 2 * d0 * oneMinus) * perInner - 2 * curvature * difference * perDenominator;
            double dLogSlope = 2 / slope + 2 * cross * perInner - 2 * (1 - 2 * cross) * perDenominator;
            double dLogD0 = oneMinus * oneMinus * perInner - 2 * cross * perDenominator;
            double dLogD1 = theta * theta * perInner - 2 * cross * perDenominator;
            double gv, gX0, gWidth, gY0, gHeight, gSlope, gD0, gD1;
            if (!call.Inverse)
            {
                // y = y0 + h R(theta), R = N / D with N = s theta^2 + d0 theta (1 - theta), D = s + (d0 + d1 - 2 s) theta (1 - theta).
                double ratio = (slope * theta * theta + d0 * cross) * perDenominator;
                double dRatioTheta = (2 * slope * theta + d0 * (1 - 2 * theta) - ratio * curvature * (1 - 2 * theta)) * perDenominator;
                double scaled = g * binHeight;
                double gTheta = scaled * dRatioTheta + gLogDet * dLogTheta;
                gSlope = scaled * (theta * theta - ratio * (1 - 2 * cross)) * perDenominator + gLogDet * dLogSlope;
                gD0 = scaled * cross * (1 - ratio) * perDenominator + gLogDet * dLogD0;
                gD1 = -scaled * ratio * cross * perDenominator + gLogDet * dLogD1;
                gHeight = g * ratio;
                gY0 = g;
                // theta = clamp((v - x0) / w, 0, 1): the gradient passes where the quotient lies in [0, 1].
                bool passes = thetaRaw >= 0 && thetaRaw <= 1;
                gv = passes ? gTheta / binWidth : 0;
                gX0 = -gv;
                gWidth = passes ? -gTheta * thetaRaw / binWidth : 0;
            }
            else
            {
                // x = x0 + theta w, log-det -L(theta); theta = root = 2c / E with E = b + sqrt(disc) (the clamp keeps the root's gradient).
                double gTheta = g * binWidth - gLogDet * dLogTheta;
                gX0 = g;
                gWidth = g * theta;
                gSlope = -gLogDet * dLogSlope;
                gD0 = -gLogDet * dLogD0;
                gD1 = -gLogDet * dLogD1;
                gHeight = 0;
                gY0 = 0;
                double offset = v - y0, rest = top - v;
                // The root from the nearer end (near, far, its derivative, the other's): theta = root from the bottom, 1 - root
                // from the top.
                var (near, far, dNear, dFar, gRoot) = fromTop ? (rest, offset, d1, d0, -gTheta) : (offset, rest, d0, d1, gTheta);
                double t = dNear * far - dFar * near;
                double rawDiscriminant = t * t + 4 * (slope * near * slope) * far;
                double squareRoot = Math.Sqrt(Math.Max(rawDiscriminant, 0.0));
                double e = binHeight * dNear - near * curvature + squareRoot;
                double half = rawDiscriminant >= 0 && squareRoot > 0 ? 0.5 / squareRoot : 0;
                double s2 = slope * slope;
                // Partial derivatives of E = h dNear - near curvature + sqrt(disc), disc = (dNear far - dFar near)^2 + 4 s^2 near far.
                double eNear = -curvature + half * (-2 * t * dFar + 4 * s2 * far);
                double eFar = half * (2 * t * dNear + 4 * s2 * near);
                double eDNear = binHeight - near + half * 2 * t * far;
                double eDFar = -near - half * 2 * t * near;
                double eSlope = 2 * near + half * 8 * slope * near * far;
                double scale = gRoot / e;
                double gNear = scale * (2 * slope - root * eNear);
                double gFar = -scale * root * eFar;
                gHeight += -scale * root * dNear;
                double gDNear = -scale * root * eDNear, gDFar = -scale * root * eDFar;
                gSlope += scale * (2 * near - root * eSlope);
                var (gOffset, gRest) = fromTop ? (gFar, gNear) : (gNear, gFar);
                if (fromTop) { gD1 += gDNear; gD0 += gDFar; }
                else { gD0 += gDNear; gD1 += gDFar; }
                // offset = v - y0, rest = y1 - v with y1 = y0 + h.
                gv = gOffset - gRest;
                gY0 += -gOffset + gRest;
                gHeight += gRest;
            }
            // To the fractions (T held constant, see the type's remarks), then through the softmax and softplus.
            double span = 2 * call.Bound;
            widthGradient.Clear();
            heightGradient.Clear();
            for (int i = 0; i < bin; i++)
            {
                widthGradient[i] = gX0 * span / widthTotal;
                heightGradient[i] = gY0 * span / heightTotal;
            }
            widthGradient[bin] = gWidth * span / widthTotal - gSlope * slope / widthFraction;
            heightGradient[bin] = gHeight * span / heightTotal + gSlope * slope / heightFraction;
            int k = call.Bins;
            SoftmaxBackward(widthShares, widthGradient, 1 - k * call.MinBinWidth, gradient.Slice(0, k));
            SoftmaxBackward(heightShares, heightGradient, 1 - k * call.MinBinHeight, gradient.Slice(k, k));
            if (bin >= 1) gradient[2 * k + bin - 1] = T.CreateChecked(gD0 * Sigmoid(derivatives[bin - 1] + call.DerivativeShift));
            if (bin + 1 <= k - 1) gradient[2 * k + bin] = T.CreateChecked(gD1 * Sigmoid(derivatives[bin] + call.DerivativeShift));
            return gv;
        }

        private static void SoftmaxBackward<T>(Span<double> shares, Span<double> upstream, double scale, Span<T> gradient) where T : unmanaged, IFloatingPointIeee754<T>
        {
            double dot = 0;
            for (int i = 0; i < shares.Length; i++) dot += shares[i] * upstream[i];
            for (int i = 0; i < shares.Length; i++) gradient[i] = T.CreateChecked(scale * shares[i] * (upstream[i] - dot));
        }

        private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
    }
}

/// <summary>The fused spline as one autograd node: inputs <c>(call, x, parameters)</c>, outputs <c>(y, logAbsDet)</c>.</summary>
internal sealed class SplineFunction : MultiTensorFunction<SplineFunction>
{
    /// <inheritdoc />
    public override string Name => "FusedRationalQuadraticSpline";

    /// <inheritdoc />
    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var call = (FusedSpline.Call)vars[0];
        var x = ((Tensor)vars[1]).contiguous();
        var p = ((Tensor)vars[2]).contiguous();
        ctx.set_materialize_grads(false);
        var y = torch.empty_like(x);
        var ld = torch.empty_like(x);
        var state = torch.empty(new[] { x.numel(), (long)FusedSpline.StateSize(call.Bins) }, dtype: ScalarType.Float64);
        if (x.dtype == ScalarType.Float32) FusedSpline.Run<float>(call, x, p, y, ld, null, null, null, null, state);
        else FusedSpline.Run<double>(call, x, p, y, ld, null, null, null, null, state);
        ctx.save_for_backward(new List<Tensor> { x, p, state });
        ctx.save_data("call", call);
        return new List<Tensor> { y, ld };
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grad_outputs)
    {
        var call = (FusedSpline.Call)ctx.get_data("call");
        var saved = ctx.get_saved_variables();
        var x = saved[0];
        var p = saved[1];
        var state = saved[2];
        var gy = TensorMemory.Gradient(grad_outputs[0]);
        var gl = TensorMemory.Gradient(grad_outputs[1]);
        var gx = torch.empty_like(x);
        var gp = torch.empty_like(p);
        if (x.dtype == ScalarType.Float32) FusedSpline.Run<float>(call, x, p, null, null, gy, gl, gx, gp, state);
        else FusedSpline.Run<double>(call, x, p, null, null, gy, gl, gx, gp, state);
        return new List<Tensor> { null!, gx, gp };
    }
}
