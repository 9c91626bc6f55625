namespace NormalizingFlows.Ode;

/// <summary>Which solver a <see cref="Bijectors.ContinuousFlow"/> integrates with.</summary>
public enum OdeMethod
{
    /// <summary>Adaptive <see cref="DormandPrince"/> 5(4) with the flow's tolerances.</summary>
    DormandPrince,

    /// <summary><see cref="RungeKutta4"/> with a fixed number of steps.</summary>
    RungeKutta4,

    /// <summary><see cref="Euler"/> with a fixed number of steps.</summary>
    Euler,
}
