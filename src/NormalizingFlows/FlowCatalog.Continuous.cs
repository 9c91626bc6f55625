using NormalizingFlows.Conditioners;

namespace NormalizingFlows;

public static partial class FlowCatalog
{
    private static readonly FlowPreset[] ContinuousPresets =
    {
        new("cnf", "Continuous normalising flow (FFJORD): a velocity MLP (tanh, time input) integrated by adaptive Dormand-Prince, exact divergence up to 10 features; trained by maximum likelihood through the solver.", true,
            o => Flows.Continuous(o.Features, o.HiddenFeatures, o.ContextFeatures, Activation.Tanh, seed: o.Seed)),
        new("flow-matching", "The same continuous flow (SiLU velocity MLP) trained by conditional flow matching on the straight path, without solving the ODE; exact densities afterwards.", true,
            o => Flows.Continuous(o.Features, o.HiddenFeatures, o.ContextFeatures, Activation.Silu, seed: o.Seed))
        {
            Training = FlowTraining.FlowMatching,
        },
    };
}
