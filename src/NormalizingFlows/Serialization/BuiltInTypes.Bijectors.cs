using System.Linq;
using System.Text.Json.Nodes;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;

namespace NormalizingFlows.Serialization;

internal static partial class BuiltInTypes
{
    private static void RegisterBijectors()
    {
        ModelRegistry.Register<Chain>(nameof(Chain),
            (chain, w) => new JsonObject { ["layers"] = Describe(w, chain.Layers) },
            (n, r) => Parts.Build(parts => new Chain(BuildAll<Bijector>(r, n, "layers").Select(parts.Add).ToArray())));
        ModelRegistry.Register<Invert>(nameof(Invert),
            (invert, w) => new JsonObject { ["inner"] = w.Describe(invert.Inner) },
            (n, r) => Parts.Build(parts => new Invert(parts.Add(r.Build<Bijector>(n, "inner")))));
        ModelRegistry.Register<Permutation>(nameof(Permutation),
            p => new JsonObject { ["order"] = Array(p.Order) },
            (n, r) => new Permutation(r.GetArray<long>(n, "order")));
        ModelRegistry.Register<LuLinear>(nameof(LuLinear),
            l => new JsonObject { ["features"] = l.EventShape[0], ["outputOrder"] = l.OutputOrder is null ? null : Array(l.OutputOrder) },
            (n, r) => new LuLinear(r.Get<int>(n, "features"), r.GetArrayOrNull<long>(n, "outputOrder")));
        ModelRegistry.Register<Coupling>(nameof(Coupling),
            (c, w) => new JsonObject { ["mask"] = Array(c.Mask), ["conditioner"] = w.Describe(c.Conditioner), ["transform"] = w.Describe(c.Transform) },
            (n, r) => Parts.Build(parts => new Coupling(r.GetArray<bool>(n, "mask"),
                parts.Add(r.Build<Conditioner>(n, "conditioner")), parts.Add(r.Build<IElementwiseTransform>(n, "transform")))));
        ModelRegistry.Register<MaskedAutoregressive>(nameof(MaskedAutoregressive),
            (m, w) => new JsonObject { ["made"] = w.Describe(m.Made), ["transform"] = w.Describe(m.Transform) },
            (n, r) => Parts.Build(parts => new MaskedAutoregressive(parts.Add(r.Build<Made>(n, "made")), parts.Add(r.Build<IElementwiseTransform>(n, "transform")))));
        ModelRegistry.Register<ActNorm>(nameof(ActNorm),
            a => new JsonObject { ["eventShape"] = Array(a.EventShape) },
            (n, r) =>
            {
                var shape = r.GetArray<long>(n, "eventShape").Select(d => Int32(d, r, n)).ToArray();
                return shape.Length switch
                {
                    1 => new ActNorm(shape[0]),
                    3 => new ActNorm(shape[0], shape[1], shape[2]),
                    _ => throw r.Error(n, $"ActNorm takes an event shape [features] or [channels, height, width]; found {shape.Length} dimensions."),
                };
            });
        ModelRegistry.Register<BatchNorm>(nameof(BatchNorm),
            b => new JsonObject { ["features"] = b.EventShape[0], ["momentum"] = b.Momentum, ["epsilon"] = b.Epsilon },
            (n, r) => new BatchNorm(r.Get<int>(n, "features"), r.Get<double>(n, "momentum"), r.Get<double>(n, "epsilon")));
        ModelRegistry.Register<ElementwiseAffine>(nameof(ElementwiseAffine), b => Shape(b), (n, r) => new ElementwiseAffine(Shape(r, n)));
        ModelRegistry.Register<Exp>(nameof(Exp), b => Shape(b), (n, r) => new Exp(Shape(r, n)));
        ModelRegistry.Register<Softplus>(nameof(Softplus), b => Shape(b), (n, r) => new Softplus(Shape(r, n)));
        ModelRegistry.Register<Sigmoid>(nameof(Sigmoid), b => Shape(b), (n, r) => new Sigmoid(Shape(r, n)));
        ModelRegistry.Register<Logit>(nameof(Logit), b => Shape(b), (n, r) => new Logit(Shape(r, n)));
        ModelRegistry.Register<Tanh>(nameof(Tanh), b => Shape(b), (n, r) => new Tanh(Shape(r, n)));
        ModelRegistry.Register<LeakyRelu>(nameof(LeakyRelu),
            b => new JsonObject { ["eventShape"] = Array(b.EventShape), ["slope"] = b.Slope },
            (n, r) => new LeakyRelu(Shape(r, n), r.Get<double>(n, "slope")));
        ModelRegistry.Register<LearnableLeakyRelu>(nameof(LearnableLeakyRelu),
            b => new JsonObject { ["eventShape"] = Array(b.EventShape), ["minimumSlope"] = b.MinimumSlope, ["perFeature"] = b.PerFeature },
            (n, r) => new LearnableLeakyRelu(Shape(r, n), minimumSlope: r.Get<double>(n, "minimumSlope"), perFeature: r.Get<bool>(n, "perFeature")));
        // A fixed scale or shift is a buffer of one value per feature; its values come with the weights.
        ModelRegistry.Register<Scale>(nameof(Scale),
            b => new JsonObject { ["eventShape"] = Array(b.EventShape), ["learnable"] = b.IsLearnable },
            (n, r) => r.Get<bool>(n, "learnable") ? new Scale(Shape(r, n)) : new Scale(Enumerable.Repeat(1.0, FlatFeatures(r, n)).ToArray()));
        ModelRegistry.Register<Shift>(nameof(Shift),
            b => new JsonObject { ["eventShape"] = Array(b.EventShape), ["learnable"] = b.IsLearnable },
            (n, r) => r.Get<bool>(n, "learnable") ? new Shift(Shape(r, n)) : new Shift(new double[FlatFeatures(r, n)]));
        ModelRegistry.Register<Planar>(nameof(Planar),
            b => new JsonObject { ["features"] = b.EventShape[0] },
            (n, r) => new Planar(r.Get<int>(n, "features"), r.Generator));
        ModelRegistry.Register<Radial>(nameof(Radial),
            b => new JsonObject { ["features"] = b.EventShape[0] },
            (n, r) => new Radial(r.Get<int>(n, "features"), r.Generator));
        ModelRegistry.Register<InvertibleConv1x1>(nameof(InvertibleConv1x1),
            b => new JsonObject { ["eventShape"] = Array(b.EventShape), ["luDecomposed"] = b.LuDecomposed },
            (n, r) =>
            {
                var shape = r.GetArray<long>(n, "eventShape").Select(d => Int32(d, r, n)).ToArray();
                if (shape.Length != 3) throw r.Error(n, $"InvertibleConv1x1 takes an event shape [channels, height, width]; found {shape.Length} dimensions.");
                return new InvertibleConv1x1(shape[0], shape[1], shape[2], r.Get<bool>(n, "luDecomposed"), r.Generator);
            });
        // The block's Hutchinson-probe generator is not saved: a loaded block restarts it from its seed (as a fresh block does).
        ModelRegistry.Register<ResidualBlock>(nameof(ResidualBlock),
            b => new JsonObject
            {
                ["features"] = b.EventShape[0],
                ["hiddenFeatures"] = Array(b.HiddenFeatures),
                ["lipschitzCoefficient"] = b.LipschitzCoefficient,
                ["activation"] = b.Activation.ToString(),
                ["logDet"] = b.LogDet.ToString(),
                ["estimatorSeed"] = b.EstimatorSeed,
                ["seriesTerms"] = b.SeriesTerms,
                ["trainingPowerIterations"] = b.TrainingPowerIterations,
                ["evaluationPowerIterations"] = b.EvaluationPowerIterations,
                ["inverseTolerance"] = b.InverseTolerance,
                ["inverseMaxIterations"] = b.InverseMaxIterations,
            },
            (n, r) => Parts.Build(parts =>
            {
                var block = parts.Add(new ResidualBlock(r.Get<int>(n, "features"), r.GetArray<int>(n, "hiddenFeatures"), r.Get<double>(n, "lipschitzCoefficient"),
                    r.GetEnum<Activation>(n, "activation"), r.GetEnum<ResidualLogDet>(n, "logDet"), r.Generator, r.Get<long>(n, "estimatorSeed")));
                block.SeriesTerms = r.Get<int>(n, "seriesTerms");
                block.TrainingPowerIterations = r.Get<int>(n, "trainingPowerIterations");
                block.EvaluationPowerIterations = r.Get<int>(n, "evaluationPowerIterations");
                block.InverseTolerance = r.Get<double>(n, "inverseTolerance");
                block.InverseMaxIterations = r.Get<int>(n, "inverseMaxIterations");
                return block;
            }));

        // The velocity network is built by the flow itself (its weights come with the state); its probe generator restarts from its seed.
        ModelRegistry.Register<ContinuousFlow>(nameof(ContinuousFlow),
            f => new JsonObject
            {
                ["features"] = f.EventShape[0],
                ["hiddenFeatures"] = Array(f.HiddenFeatures),
                ["contextFeatures"] = f.ContextFeatures,
                ["activation"] = f.Activation.ToString(),
                ["divergence"] = f.Divergence.ToString(),
                ["estimatorSeed"] = f.EstimatorSeed,
                ["method"] = f.Method.ToString(),
                ["relativeTolerance"] = f.RelativeTolerance,
                ["absoluteTolerance"] = f.AbsoluteTolerance,
                ["maxSteps"] = f.MaxSteps,
                ["fixedSteps"] = f.FixedSteps,
            },
            (n, r) => Parts.Build(parts =>
            {
                var flow = parts.Add(new ContinuousFlow(r.Get<int>(n, "features"), r.GetArray<int>(n, "hiddenFeatures"), r.Get<int>(n, "contextFeatures"),
                    r.GetEnum<Activation>(n, "activation"), r.GetEnum<DivergenceEstimator>(n, "divergence"), r.Generator, r.Get<long>(n, "estimatorSeed")));
                flow.Method = r.GetEnum<Ode.OdeMethod>(n, "method");
                flow.RelativeTolerance = r.Get<double>(n, "relativeTolerance");
                flow.AbsoluteTolerance = r.Get<double>(n, "absoluteTolerance");
                flow.MaxSteps = r.Get<int>(n, "maxSteps");
                flow.FixedSteps = r.Get<int>(n, "fixedSteps");
                return flow;
            }));

        // Fixed statistics: the mean and scale are buffers and come with the weights.
        ModelRegistry.Register<Standardization>(nameof(Standardization),
            b => new JsonObject { ["features"] = b.EventShape[0] },
            (n, r) => new Standardization(r.Get<int>(n, "features")));
        // Image layers.
        ModelRegistry.Register<Squeeze>(nameof(Squeeze),
            q => new JsonObject { ["channels"] = q.Channels, ["height"] = q.Height, ["width"] = q.Width },
            (n, r) => new Squeeze(r.Get<int>(n, "channels"), r.Get<int>(n, "height"), r.Get<int>(n, "width")));
        ModelRegistry.Register<FactorOut>(nameof(FactorOut),
            (f, w) => new JsonObject { ["inner"] = w.Describe(f.Inner), ["channels"] = f.KeptChannels + f.FactoredChannels },
            (n, r) => Parts.Build(parts => new FactorOut(parts.Add(r.Build<Bijector>(n, "inner")), r.Get<int>(n, "channels"))));
        ModelRegistry.Register<ImageCoupling>(nameof(ImageCoupling),
            (c, w) => new JsonObject
            {
                ["eventShape"] = Array(c.EventShape),
                ["mask"] = c.Mask.ToString(),
                ["conditioner"] = w.Describe(c.Conditioner),
                ["transform"] = w.Describe(c.Transform),
            },
            (n, r) =>
            {
                var shape = r.GetArray<long>(n, "eventShape").Select(d => Int32(d, r, n)).ToArray();
                if (shape.Length != 3) throw r.Error(n, $"ImageCoupling takes an event shape [channels, height, width]; found {shape.Length} dimensions.");
                return Parts.Build(parts => new ImageCoupling(shape[0], shape[1], shape[2], r.GetEnum<ImageMask>(n, "mask"),
                    parts.Add(r.Build<ImageConditioner>(n, "conditioner")), parts.Add(r.Build<IElementwiseTransform>(n, "transform"))));
            });
        ModelRegistry.Register<LogitPreprocessing>(nameof(LogitPreprocessing),
            b => new JsonObject { ["eventShape"] = Array(b.EventShape), ["alpha"] = b.Alpha },
            (n, r) => new LogitPreprocessing(Shape(r, n), r.Get<double>(n, "alpha")));
    }

    private static JsonObject Shape(Bijector bijector) => new() { ["eventShape"] = Array(bijector.EventShape) };

    private static long[] Shape(ArchitectureReader reader, JsonObject node) => reader.GetArray<long>(node, "eventShape");

    /// <summary>The width of a flat event shape <c>[features]</c> (fixed scales and shifts have only that form).</summary>
    private static int FlatFeatures(ArchitectureReader reader, JsonObject node)
    {
        var shape = Shape(reader, node);
        if (shape.Length != 1) throw reader.Error(node, $"a fixed (not learnable) layer takes an event shape [features]; found {shape.Length} dimensions.");
        return Int32(shape[0], reader, node);
    }
}
