using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>The explicit Euler method with a fixed number of equal steps: <c>y += h f(t, y)</c>. First order: the error
/// shrinks with the step size, not faster; one evaluation per step. For tests and cheap, rough trajectories.</summary>
public sealed class Euler : FixedStepSolver
{
    private static readonly double[] Weights = { 1.0 };

    /// <summary>Creates the solver.</summary>
    /// <param name="steps">Equal steps from <c>t0</c> to <c>t1</c>; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1.</exception>
    public Euler(int steps) : base(steps)
    {
    }

    /// <inheritdoc />
    protected override int EvaluationsPerStep => 1;

    /// <inheritdoc />
    protected override Tensor Step(OdeFunction function, double t, double tEnd, double h, Tensor y) =>
        Combine(y, h, Weights, new[] { function(t, y) });
}
