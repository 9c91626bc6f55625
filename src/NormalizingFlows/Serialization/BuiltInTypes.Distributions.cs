using System.Text.Json.Nodes;
using NormalizingFlows.Distributions;

namespace NormalizingFlows.Serialization;

internal static partial class BuiltInTypes
{
    private static void RegisterDistributions()
    {
        ModelRegistry.Register<Flow>(nameof(Flow),
            (flow, w) => new JsonObject { ["base"] = w.Describe(flow.Base), ["bijector"] = w.Describe(flow.Bijector) },
            (n, r) => Parts.Build(parts => new Flow(parts.Add(r.Build<Distribution>(n, "base")), parts.Add(r.Build<Bijector>(n, "bijector")))));
        ModelRegistry.Register<StandardNormal>(nameof(StandardNormal),
            d => new JsonObject { ["eventShape"] = Array(d.EventShape) },
            (n, r) => new StandardNormal(r.GetArray<long>(n, "eventShape")));
        ModelRegistry.Register<DiagonalGaussian>(nameof(DiagonalGaussian),
            d => new JsonObject { ["features"] = d.EventShape[0], ["trainable"] = d.Trainable },
            (n, r) => new DiagonalGaussian(r.Get<int>(n, "features"), r.Get<bool>(n, "trainable")));
        ModelRegistry.Register<MultivariateGaussian>(nameof(MultivariateGaussian),
            d => new JsonObject { ["features"] = d.EventShape[0], ["trainable"] = d.Trainable },
            (n, r) => new MultivariateGaussian(r.Get<int>(n, "features"), r.Get<bool>(n, "trainable")));
        ModelRegistry.Register<GaussianMixture>(nameof(GaussianMixture),
            d => new JsonObject { ["components"] = d.Components, ["features"] = d.EventShape[0], ["trainable"] = d.Trainable },
            (n, r) => new GaussianMixture(r.Get<int>(n, "components"), r.Get<int>(n, "features"), trainable: r.Get<bool>(n, "trainable"), generator: r.Generator));
        ModelRegistry.Register<StudentT>(nameof(StudentT),
            d => new JsonObject { ["features"] = d.EventShape[0], ["trainable"] = d.Trainable, ["trainableDegreesOfFreedom"] = d.TrainableDegreesOfFreedom },
            (n, r) => new StudentT(r.Get<int>(n, "features"), trainable: r.Get<bool>(n, "trainable"), trainableDegreesOfFreedom: r.Get<bool>(n, "trainableDegreesOfFreedom")));
        // The box's edges set its constant log-volume, so they are part of the description (the buffers come with the weights too).
        ModelRegistry.Register<BoxUniform>(nameof(BoxUniform),
            d => new JsonObject { ["low"] = Array(d.LowValues), ["high"] = Array(d.HighValues) },
            (n, r) => new BoxUniform(r.GetArray<double>(n, "low"), r.GetArray<double>(n, "high")));
        ModelRegistry.Register<ConditionalDiagonalGaussian>(nameof(ConditionalDiagonalGaussian),
            (d, w) => new JsonObject { ["features"] = d.EventShape[0], ["network"] = w.Describe(d.Network) },
            (n, r) => Parts.Build(parts => new ConditionalDiagonalGaussian(r.Get<int>(n, "features"), parts.Add(r.Build<Conditioner>(n, "network")))));
    }
}
