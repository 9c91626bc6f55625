using System;

namespace NormalizingFlows.Ode;

/// <summary>An adaptive solver reached its cap on steps (<see cref="DormandPrince.MaxSteps"/>) before the end time: the
/// right-hand side is stiff or badly scaled for the tolerances asked for.</summary>
public sealed class OdeStepLimitException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened: the cap, the time reached, the last step size.</param>
    /// <param name="reachedTime">The time the solver had reached when it stopped.</param>
    public OdeStepLimitException(string message, double reachedTime) : base(message)
    {
        ReachedTime = reachedTime;
    }

    /// <summary>The time the solver had reached when it stopped.</summary>
    public double ReachedTime { get; }
}
