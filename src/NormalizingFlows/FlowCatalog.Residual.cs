namespace NormalizingFlows;

public static partial class FlowCatalog
{
    private static readonly FlowPreset[] ResidualPresets =
    {
        new("residual", "Residual flow (i-ResNet): invertible residual blocks with spectrally normalised MLPs, trainable diagonal Gaussian base; stochastic power-series log-dets in training, exact ones in evaluation up to 16 features.", true,
            o => { NoContext(o, "residual"); return Flows.ResidualFlow(o.Features, o.Layers ?? 8, o.HiddenFeatures, seed: o.Seed); }),
    };

    private static readonly FlowPreset[] PlanarPresets =
    {
        new("planar", "Planar flow for variational inference: planar layers on a standard normal base; samples with log-densities, no LogProb of arbitrary points.", false,
            o => { NoContext(o, "planar"); return Flows.Planar(o.Features, o.Layers ?? 16, o.Seed); }),
        new("radial", "Radial flow for variational inference: radial layers on a standard normal base; samples with log-densities, no LogProb of arbitrary points.", false,
            o => { NoContext(o, "radial"); return Flows.Radial(o.Features, o.Layers ?? 16, o.Seed); }),
    };
}
