namespace NormalizingFlows;

public static partial class FlowCatalog
{
    private static readonly FlowPreset[] CouplingVariantPresets =
    {
        new("nice", "NICE: additive couplings with alternating masks and a learnable elementwise scale, standard normal base.", true,
            o => Flows.Nice(o.Features, o.Layers ?? 4, o.HiddenFeatures, o.Seed, o.ContextFeatures)),
        new("leaky-coupling", "Second tutorial: steps of [leaky ReLU with a learnable slope + affine coupling with a learnable tanh bound], standard normal base.", true,
            o => Flows.LeakyCoupling(o.Features, o.Layers ?? 9, o.HiddenFeatures, o.Seed, o.ContextFeatures)),
    };
}
