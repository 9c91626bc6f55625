using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>
/// An initial-value solver for <c>dy/dt = f(t, y)</c> on batched TorchSharp tensors: one time grid for the whole batch (the
/// step sizes are plain numbers, so every row's result depends on its own row only), the state of any shape, any
/// floating-point dtype and device. Time may run backwards (<c>t1 &lt; t0</c>). Gradients flow through every accepted step.
/// </summary>
/// <remarks>Implementations: <see cref="DormandPrince"/> (adaptive, 5th order with a 4th-order error estimate),
/// <see cref="RungeKutta4"/> and <see cref="Euler"/> (fixed steps).</remarks>
public abstract class OdeSolver
{
    /// <summary>Integrates from <paramref name="t0"/> to <paramref name="t1"/>.</summary>
    /// <param name="function">The right-hand side.</param>
    /// <param name="initialState">The state at <paramref name="t0"/>, <c>[batch, ...]</c>; not modified, not disposed.</param>
    /// <param name="t0">Start time.</param>
    /// <param name="t1">End time (before <paramref name="t0"/> integrates backwards; equal returns a copy of the state).</param>
    /// <returns>The state at <paramref name="t1"/> (the caller owns it) and the cost.</returns>
    /// <exception cref="ArgumentException">The state is not floating point or has no batch dimension, a time is not finite, or the
    /// function returns a derivative of another shape.</exception>
    /// <exception cref="OdeStepLimitException">An adaptive solver ran out of steps.</exception>
    public OdeSolution Solve(OdeFunction function, Tensor initialState, double t0, double t1)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(initialState);
        if (!initialState.is_floating_point())
            throw new ArgumentException($"Expected a floating-point initial state; got {initialState.dtype}.", nameof(initialState));
        if (initialState.dim() < 1)
            throw new ArgumentException("Expected an initial state with a batch dimension [batch, ...]; got a scalar.", nameof(initialState));
        if (!double.IsFinite(t0)) throw new ArgumentException($"t0 must be finite; got {t0}.", nameof(t0));
        if (!double.IsFinite(t1)) throw new ArgumentException($"t1 must be finite; got {t1}.", nameof(t1));
        using var scope = torch.NewDisposeScope();
        if (t0 == t1) return new OdeSolution(scope.MoveToOuter(initialState.clone()), 0, 0, 0);
        var solution = SolveCore(Checked(function, initialState), initialState, t0, t1);
        scope.MoveToOuter(solution.State);
        return solution;
    }

    /// <summary>The integration itself; inputs are checked and a dispose scope is open.</summary>
    protected abstract OdeSolution SolveCore(OdeFunction function, Tensor initialState, double t0, double t1);

    /// <summary><c>y + h * sum_j a[j] k[j]</c>, skipping zero coefficients.</summary>
    internal static Tensor Combine(Tensor y, double h, ReadOnlySpan<double> a, ReadOnlySpan<Tensor> k)
    {
        var result = y;
        for (int j = 0; j < a.Length; j++)
        {
            if (a[j] == 0) continue;
            using var s = (h * a[j]).ToScalar();
            result = result.add(k[j], s);
        }
        return ReferenceEquals(result, y) ? y.clone() : result;
    }

    /// <summary>Wraps the function so that a derivative of the wrong shape is an error naming both shapes.</summary>
    private static OdeFunction Checked(OdeFunction function, Tensor initialState)
    {
        var shape = initialState.shape;
        return (t, y) =>
        {
            var dy = function(t, y) ?? throw new InvalidOperationException($"The ODE function returned null at t = {t}.");
            if (!dy.shape.AsSpan().SequenceEqual(shape))
                throw new ArgumentException(
                    $"Expected the ODE function to return a derivative of the state's shape {Guard.Shape(shape)}; got {Guard.Shape(dy.shape)} at t = {t}.", nameof(function));
            return dy;
        };
    }
}
