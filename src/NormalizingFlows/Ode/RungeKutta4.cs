using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>The classical fourth-order Runge-Kutta method with a fixed number of equal steps: four evaluations per step, a
/// global error of order <c>h^4</c>. Deterministic cost, which training by maximum likelihood through the solver may prefer
/// to an adaptive grid.</summary>
public sealed class RungeKutta4 : FixedStepSolver
{
    private static readonly double[] Half = { 0.5 };
    private static readonly double[] Whole = { 1.0 };
    private static readonly double[] Weights = { 1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6 };

    /// <summary>Creates the solver.</summary>
    /// <param name="steps">Equal steps from <c>t0</c> to <c>t1</c>; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1.</exception>
    public RungeKutta4(int steps) : base(steps)
    {
    }

    /// <inheritdoc />
    protected override int EvaluationsPerStep => 4;

    /// <inheritdoc />
    protected override Tensor Step(OdeFunction function, double t, double tEnd, double h, Tensor y)
    {
        var k1 = function(t, y);
        var k2 = function(t + h / 2, Combine(y, h, Half, new[] { k1 }));
        var k3 = function(t + h / 2, Combine(y, h, Half, new[] { k2 }));
        var k4 = function(tEnd, Combine(y, h, Whole, new[] { k3 }));
        return Combine(y, h, Weights, new[] { k1, k2, k3, k4 });
    }
}
