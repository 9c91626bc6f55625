using System.Linq;
using System.Text.Json.Nodes;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Serialization;

internal static partial class BuiltInTypes
{
    private static void RegisterConditioners()
    {
        ModelRegistry.Register<Mlp>(nameof(Mlp),
            m => new JsonObject
            {
                ["inFeatures"] = m.InFeatures,
                ["outFeatures"] = m.OutFeatures,
                ["hiddenFeatures"] = Array(m.HiddenFeatures),
                ["contextFeatures"] = m.ContextFeatures,
                ["activation"] = m.Activation.ToString(),
            },
            (n, r) => new Mlp(r.Get<int>(n, "inFeatures"), r.Get<int>(n, "outFeatures"), r.GetArray<int>(n, "hiddenFeatures"),
                r.Get<int>(n, "contextFeatures"), r.GetEnum<Activation>(n, "activation"), zeroInitialOutput: true, r.Generator));
        ModelRegistry.Register<Made>(nameof(Made),
            m => new JsonObject
            {
                ["features"] = m.Features,
                ["parametersPerFeature"] = m.ParametersPerFeature,
                ["hiddenFeatures"] = Array(m.HiddenFeatures),
                ["contextFeatures"] = m.ContextFeatures,
                ["order"] = Array(m.Order),
                ["residual"] = m.Residual,
                ["activation"] = m.Activation.ToString(),
            },
            (n, r) => new Made(r.Get<int>(n, "features"), r.Get<int>(n, "parametersPerFeature"), r.GetArray<int>(n, "hiddenFeatures"),
                r.Get<int>(n, "contextFeatures"), r.GetArray<int>(n, "order"), r.Get<bool>(n, "residual"), r.GetEnum<Activation>(n, "activation"), r.Generator));
        ModelRegistry.Register<ConvNet>(nameof(ConvNet),
            c => new JsonObject
            {
                ["inChannels"] = c.InChannels,
                ["outChannels"] = c.OutChannels,
                ["hiddenChannels"] = c.HiddenChannels,
                ["residualBlocks"] = c.ResidualBlocks,
                ["contextFeatures"] = c.ContextFeatures,
                ["activation"] = c.Activation.ToString(),
            },
            (n, r) => new ConvNet(r.Get<int>(n, "inChannels"), r.Get<int>(n, "outChannels"), r.Get<int>(n, "hiddenChannels"), r.Get<int>(n, "residualBlocks"),
                r.Get<int>(n, "contextFeatures"), r.GetEnum<Activation>(n, "activation"), zeroInitialOutput: true, generator: r.Generator));
        ModelRegistry.Register<ParallelMlp>(nameof(ParallelMlp),
            m => new JsonObject
            {
                ["parts"] = m.Parts,
                ["inFeatures"] = m.InFeatures,
                ["outFeatures"] = m.PartOutFeatures,
                ["hiddenFeatures"] = Array(m.HiddenFeatures),
                ["contextFeatures"] = m.ContextFeatures,
                ["activation"] = m.Activation.ToString(),
            },
            (n, r) => new ParallelMlp(r.Get<int>(n, "parts"), r.Get<int>(n, "inFeatures"), r.Get<int>(n, "outFeatures"), r.GetArray<int>(n, "hiddenFeatures"),
                r.Get<int>(n, "contextFeatures"), r.GetEnum<Activation>(n, "activation"), zeroInitialOutput: true, r.Generator));
        ModelRegistry.Register<Stacked>(nameof(Stacked),
            (s, w) => new JsonObject { ["parts"] = Describe(w, s.Parts) },
            (n, r) => Parts.Build(parts => new Stacked(BuildAll<Conditioner>(r, n, "parts").Select(parts.Add).ToArray())));
    }
}
