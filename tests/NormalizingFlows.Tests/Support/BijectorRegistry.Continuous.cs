using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Tests.Support;

/// <summary>Continuous flows with the exact divergence (the Hutchinson estimate is random and is tested on its own).</summary>
public static partial class BijectorRegistry
{
    // Forward, inverse and log-det agree to the solver's accuracy, not to rounding: tolerances of 1e-10 per step keep the
    // round trips and the integrated divergence against the Jacobian of the solution within 1e-7.
    private static readonly BijectorCase[] ContinuousCases =
    {
        new("continuous-flow-exact", g => new ContinuousFlow(3, new[] { 16, 16 }, activation: Activation.Tanh, divergence: DivergenceEstimator.Exact, generator: g)
            { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-10 }, 3) { LogDetTolerance = 1e-7, RoundTripTolerance = 1e-7 },
        new("continuous-flow-context", g => new ContinuousFlow(2, new[] { 16 }, contextFeatures: 2, activation: Activation.Silu, generator: g)
            { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-10 }, 2, 2) { LogDetTolerance = 1e-7, RoundTripTolerance = 1e-7 },
    };
}
