namespace NormalizingFlows;

public static partial class FlowCatalog
{
    private static readonly FlowPreset[] AutoregressivePresets =
    {
        new("maf", "Masked autoregressive flow: affine MADE layers with alternating orders, ActNorm at the data end; fast density, sampling one pass per feature.", true,
            o => Flows.Maf(o.Features, o.Layers ?? 5, o.HiddenFeatures, o.ContextFeatures, seed: o.Seed)),
        new("iaf", "Inverse autoregressive flow: inverted affine MADE layers, ActNorm at the data end; fast sampling, exact but slow density (one pass per feature).", true,
            o => Flows.Iaf(o.Features, o.Layers ?? 5, o.HiddenFeatures, o.ContextFeatures, seed: o.Seed)),
        new("nsf-autoregressive", "Autoregressive neural spline flow: rational-quadratic spline MADE layers (8 bins, [-5, 5], linear tails), ActNorm at the data end.", true,
            o => Flows.NeuralSplineAutoregressive(o.Features, o.Layers ?? 4, o.HiddenFeatures, o.ContextFeatures, seed: o.Seed)),
        new("nsf-coupling", "Coupling neural spline flow: rational-quadratic spline couplings (8 bins, [-5, 5], linear tails) with LU linear layers, ActNorm at the data end.", true,
            o => Flows.NeuralSplineCoupling(o.Features, o.Layers ?? 6, o.HiddenFeatures, o.ContextFeatures, seed: o.Seed)),
        new("glow", "Glow for vectors: steps of [ActNorm, LU linear, affine coupling (MLP)], data-initialised ActNorm at the data end.", true,
            o => Flows.Glow(o.Features, o.Layers ?? 8, o.HiddenFeatures, o.ContextFeatures, o.Seed)),
    };
}
