using System;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Ode;

/// <summary>A method with a fixed number of equal steps from <c>t0</c> to <c>t1</c> (<see cref="Euler"/>,
/// <see cref="RungeKutta4"/>): the loop over the steps, each in its own dispose scope; a method supplies one step.</summary>
public abstract class FixedStepSolver : OdeSolver
{
    /// <summary>Creates the solver.</summary>
    /// <param name="steps">Equal steps from <c>t0</c> to <c>t1</c>; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1.</exception>
    protected FixedStepSolver(int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be at least 1; got {steps}.");
        Steps = steps;
    }

    /// <summary>Equal steps from <c>t0</c> to <c>t1</c>.</summary>
    public int Steps { get; }

    /// <summary>Function evaluations of one step.</summary>
    protected abstract int EvaluationsPerStep { get; }

    /// <summary>The state after one step of size <paramref name="h"/> from <paramref name="y"/> at <paramref name="t"/>;
    /// <paramref name="tEnd"/> is <c>t + h</c>, exactly <c>t1</c> on the last step.</summary>
    protected abstract Tensor Step(OdeFunction function, double t, double tEnd, double h, Tensor y);

    /// <inheritdoc />
    protected sealed override OdeSolution SolveCore(OdeFunction function, Tensor initialState, double t0, double t1)
    {
        double h = (t1 - t0) / Steps;
        var y = initialState;
        for (int i = 0; i < Steps; i++)
        {
            double t = t0 + i * h;
            Tensor next;
            using (var step = torch.NewDisposeScope())
            {
                next = step.MoveToOuter(Step(function, t, i == Steps - 1 ? t1 : t + h, h, y));
            }
            if (!ReferenceEquals(y, initialState)) y.Dispose();
            y = next;
        }
        return new OdeSolution(y, EvaluationsPerStep * Steps, Steps, 0);
    }
}
