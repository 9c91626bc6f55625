using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>The explicit Euler method with a fixed number of equal steps: <c>y += h f(t, y)</c>. First order: the error
/// shrinks with the step size, not faster; one evaluation per step. For tests and cheap, rough trajectories.</summary>
public sealed class Euler : OdeSolver
{
    private static readonly double[] Weights = { 1.0 };

    /// <summary>Creates the solver.</summary>
    /// <param name="steps">Equal steps from <c>t0</c> to <c>t1</c>; at least 1.</param>
    public Euler(int steps)
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
                next = step.MoveToOuter(Combine(y, h, Weights, new[] { function(t, y) }));
            }
            if (!ReferenceEquals(y, initialState)) y.Dispose();
            y = next;
        }
        return new OdeSolution(y, Steps, Steps, 0);
    }
}
