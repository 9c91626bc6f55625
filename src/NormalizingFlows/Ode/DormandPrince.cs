using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>
/// The adaptive Dormand-Prince 5(4) method (the <c>dopri5</c> of torchdiffeq, <c>ode45</c> of MATLAB): seven stages per step
/// (six new evaluations: the last stage of an accepted step is the first of the next), the fifth-order solution is kept and
/// the embedded fourth-order one estimates the local error. A step is accepted when, in every row of the batch, the root mean
/// square of <c>error / (AbsoluteTolerance + RelativeTolerance * max(|y|, |y_new|))</c> over the row's values is at most 1;
/// the next step size is <c>h * clamp(0.9 * err^(-1/5), 0.2, 10)</c>. The first step size comes from Hairer, Norsett and
/// Wanner's rule (two evaluations).
/// Dormand and Prince, "A family of embedded Runge-Kutta formulae" (1980); Hairer, Norsett and Wanner, "Solving ordinary
/// differential equations I", section II.4.
/// </summary>
/// <remarks>A step that produces a non-finite state ends the solve with that state (no exception), so that callers see the
/// non-finite values. One step size for the whole batch, so the hardest row sets the pace; the step sizes are plain numbers (no gradient
/// flows through the step-size control), so gradients are those of the discrete map the accepted steps define.</remarks>
public sealed class DormandPrince : OdeSolver
{
    private static readonly double[] C = { 0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1 };
    private static readonly double[][] A =
    {
        Array.Empty<double>(),
        new[] { 1.0 / 5 },
        new[] { 3.0 / 40, 9.0 / 40 },
        new[] { 44.0 / 45, -56.0 / 15, 32.0 / 9 },
        new[] { 19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729 },
        new[] { 9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656 },
        new[] { 35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84 },
    };
    // Fifth-order weights (= A[6], with 0 for the seventh stage) minus the embedded fourth-order ones.
    private static readonly double[] ErrorWeights =
    {
        35.0 / 384 - 5179.0 / 57600, 0, 500.0 / 1113 - 7571.0 / 16695, 125.0 / 192 - 393.0 / 640,
        -2187.0 / 6784 + 92097.0 / 339200, 11.0 / 84 - 187.0 / 2100, -1.0 / 40,
    };
    private static readonly double[] Whole = { 1.0 };

    /// <summary>Creates the solver.</summary>
    /// <param name="relativeTolerance">Relative tolerance per step, positive.</param>
    /// <param name="absoluteTolerance">Absolute tolerance per step, positive.</param>
    /// <param name="maxSteps">Cap on accepted plus rejected steps; at least 1.</param>
    public DormandPrince(double relativeTolerance = 1e-5, double absoluteTolerance = 1e-5, int maxSteps = 10_000)
    {
        if (!(relativeTolerance > 0) || !double.IsFinite(relativeTolerance))
            throw new ArgumentOutOfRangeException(nameof(relativeTolerance), relativeTolerance, $"relativeTolerance must be positive and finite; got {relativeTolerance}.");
        if (!(absoluteTolerance > 0) || !double.IsFinite(absoluteTolerance))
            throw new ArgumentOutOfRangeException(nameof(absoluteTolerance), absoluteTolerance, $"absoluteTolerance must be positive and finite; got {absoluteTolerance}.");
        if (maxSteps < 1) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, $"maxSteps must be at least 1; got {maxSteps}.");
        RelativeTolerance = relativeTolerance;
        AbsoluteTolerance = absoluteTolerance;
        MaxSteps = maxSteps;
    }

    /// <summary>Relative tolerance per step.</summary>
    public double RelativeTolerance { get; }

    /// <summary>Absolute tolerance per step.</summary>
    public double AbsoluteTolerance { get; }

    /// <summary>Cap on accepted plus rejected steps; reaching it throws <see cref="OdeStepLimitException"/>.</summary>
    public int MaxSteps { get; }

    /// <inheritdoc />
    protected override OdeSolution SolveCore(OdeFunction function, Tensor initialState, double t0, double t1)
    {
        double direction = Math.Sign(t1 - t0);
        double span = Math.Abs(t1 - t0);
        int evaluations = 0, accepted = 0, rejected = 0;
        var y = initialState;
        var k1 = function(t0, y);
        evaluations++;
        double h;
        using (torch.NewDisposeScope())
        {
            h = InitialStep(function, y, k1, t0, direction, span);
        }
        evaluations++;
        double t = t0;
        while (direction * (t1 - t) > 0)
        {
            if (accepted + rejected >= MaxSteps)
                throw new OdeStepLimitException(
                    $"The Dormand-Prince solver reached its cap of {MaxSteps} steps (MaxSteps) at t = {t:G6} on the way from {t0:G6} to {t1:G6} " +
                    $"(last step size {h:G3}, {accepted} accepted, {rejected} rejected). Loosen the tolerances (relative {RelativeTolerance:G3}, " +
                    $"absolute {AbsoluteTolerance:G3}), raise MaxSteps, or use a fixed-step solver.", t);
            // Never step past t1, and do not leave a sliver behind.
            double remaining = Math.Abs(t1 - t);
            double size = Math.Min(h, remaining);
            if (remaining - size < 1e-12 * Math.Max(1, span)) size = remaining;
            bool last = size == remaining;
            double step = direction * size;
            Tensor yNew, kNew;
            double error;
            using (var scope = torch.NewDisposeScope())
            {
                var k = new Tensor[7];
                k[0] = k1;
                Tensor ys = y;
                for (int s = 1; s < 7; s++)
                {
                    // The last stage is evaluated at the fifth-order solution itself (its weights are A[6]).
                    ys = Combine(y, step, A[s], k);
                    k[s] = function(s == 6 && last ? t1 : t + C[s] * step, ys);
                    evaluations++;
                }
                yNew = ys;
                error = ErrorNorm(Combine(torch.zeros_like(y), step, ErrorWeights, k), y, yNew);
                scope.MoveToOuter(yNew, k[6]);
                kNew = k[6];
            }
            if (double.IsNaN(error))
            {
                // A non-finite state: stop here and hand it back, so that the caller sees non-finite values (a training step
                // with a non-finite loss is skipped) rather than an exception.
                kNew.Dispose();
                if (!ReferenceEquals(y, initialState)) y.Dispose();
                y = yNew;
                accepted++;
                break;
            }
            if (error <= 1)
            {
                accepted++;
                t = last ? t1 : t + step;
                if (!ReferenceEquals(y, initialState)) y.Dispose();
                k1.Dispose();
                y = yNew;
                k1 = kNew;
            }
            else
            {
                rejected++;
                yNew.Dispose();
                kNew.Dispose();
            }
            double factor = error == 0 ? 10 : Math.Clamp(0.9 * Math.Pow(error, -0.2), 0.2, 10);
            h = size * factor;
        }
        k1.Dispose();
        return new OdeSolution(ReferenceEquals(y, initialState) ? y.clone() : y, evaluations, accepted, rejected);
    }

    /// <summary>The largest over rows of the root mean square of the scaled error; +inf when it is not finite (NaN only
    /// when the state itself is not finite).</summary>
    private double ErrorNorm(Tensor error, Tensor y, Tensor yNew)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var rtol = RelativeTolerance.ToScalar();
        using var atol = AbsoluteTolerance.ToScalar();
        var scale = torch.maximum(y.detach().abs(), yNew.detach().abs()).mul(rtol).add(atol, Scalars.One);
        var ratio = error.detach().div(scale).reshape(y.size(0), -1);
        var perRow = ratio.pow(Scalars.Two).mean(new long[] { 1 }).sqrt();
        double norm = TensorValues.ToDouble(perRow.max());
        if (double.IsNaN(norm) && TensorValues.ToBoolean(torch.isfinite(yNew.detach()).all())) return double.PositiveInfinity;
        return norm;
    }

    /// <summary>Hairer, Norsett and Wanner's first step size (one evaluation).</summary>
    private double InitialStep(OdeFunction function, Tensor y0, Tensor f0, double t0, double direction, double span)
    {
        double d0 = ScaledNorm(y0, y0);
        double d1 = ScaledNorm(f0, y0);
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        var y1 = Combine(y0, direction * h0, Whole, new[] { f0 });
        var f1 = function(t0 + direction * h0, y1);
        double d2 = ScaledNorm(f1.sub(f0), y0) / h0;
        double h1 = Math.Max(d1, d2) <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / Math.Max(d1, d2), 1.0 / 5);
        double h = Math.Min(100 * h0, h1);
        return double.IsFinite(h) && h > 0 ? Math.Min(h, span) : Math.Min(1e-6, span);
    }

    /// <summary>The largest over rows of the root mean square of <c>v / (atol + rtol |y|)</c>.</summary>
    private double ScaledNorm(Tensor v, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var rtol = RelativeTolerance.ToScalar();
        using var atol = AbsoluteTolerance.ToScalar();
        var ratio = v.detach().div(y.detach().abs().mul(rtol).add(atol, Scalars.One)).reshape(y.size(0), -1);
        return TensorValues.ToDouble(ratio.pow(Scalars.Two).mean(new long[] { 1 }).sqrt().max());
    }
}
