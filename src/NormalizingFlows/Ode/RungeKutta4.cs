using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>The classical fourth-order Runge-Kutta method with a fixed number of equal steps: four evaluations per step, a
/// global error of order <c>h^4</c>. Deterministic cost, which training by maximum likelihood through the solver may prefer
/// to an adaptive grid.</summary>
public sealed class RungeKutta4 : OdeSolver
{
    private static readonly double[] Half = { 0.5 };
    private static readonly double[] Whole = { 1.0 };
    private static readonly double[] Weights = { 1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6 };

    /// <summary>Creates the solver.</summary>
    /// <param name="steps">Equal steps from <c>t0</c> to <c>t1</c>; at least 1.</param>
    public RungeKutta4(int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be at least 1; got {steps}.");
        Steps = steps;
    }

    /// <summary>Equal steps from <c>t0</c> to <c>t1</c>.</summary>
    public int Steps { get; }

    /// <inheritdoc />
    protected override OdeSolution SolveCore(OdeFunction function, Tensor initialState, double t0, double t1)
    {
        double h = (t1 - t0) / Steps;
        var y = initialState;
        for (int i = 0; i < Steps; i++)
        {
            double t = t0 + i * h;
            Tensor next;
            using (var step = torch.NewDisposeScope())
            {
                var k1 = function(t, y);
                var k2 = function(t + h / 2, Combine(y, h, Half, new[] { k1 }));
                var k3 = function(t + h / 2, Combine(y, h, Half, new[] { k2 }));
                var k4 = function(i == Steps - 1 ? t1 : t + h, Combine(y, h, Whole, new[] { k3 }));
                next = step.MoveToOuter(Combine(y, h, Weights, new[] { k1, k2, k3, k4 }));
            }
            if (!ReferenceEquals(y, initialState)) y.Dispose();
            y = next;
        }
        return new OdeSolution(y, 4 * Steps, Steps, 0);
    }
}
