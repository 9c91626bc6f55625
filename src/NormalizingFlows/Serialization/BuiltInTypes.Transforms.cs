using System.Text.Json.Nodes;
using NormalizingFlows.Transforms;

namespace NormalizingFlows.Serialization;

internal static partial class BuiltInTypes
{
    private static void RegisterTransforms()
    {
        ModelRegistry.Register<AdditiveTransform>(nameof(AdditiveTransform), _ => new JsonObject(), _ => AdditiveTransform.Instance);
        ModelRegistry.Register<AffineTransform>(nameof(AffineTransform),
            t => new JsonObject { ["scaleMap"] = t.ScaleMap.ToString(), ["bound"] = t.Bound },
            (n, r) => new AffineTransform(r.GetEnum<ScaleMap>(n, "scaleMap"), r.Get<double>(n, "bound")));
        ModelRegistry.Register<RationalQuadraticSpline>(nameof(RationalQuadraticSpline),
            t => new JsonObject
            {
                ["bins"] = t.Bins,
                ["bound"] = t.Bound,
                ["minBinWidth"] = t.MinBinWidth,
                ["minBinHeight"] = t.MinBinHeight,
                ["minDerivative"] = t.MinDerivative,
            },
            (n, r) => new RationalQuadraticSpline(r.Get<int>(n, "bins"), r.Get<double>(n, "bound"), r.Get<double>(n, "minBinWidth"),
                r.Get<double>(n, "minBinHeight"), r.Get<double>(n, "minDerivative")));
        ModelRegistry.Register<CircularSpline>(nameof(CircularSpline),
            t => new JsonObject
            {
                ["bins"] = t.Bins,
                ["minBinWidth"] = t.MinBinWidth,
                ["minBinHeight"] = t.MinBinHeight,
                ["minDerivative"] = t.MinDerivative,
            },
            (n, r) => new CircularSpline(r.Get<int>(n, "bins"), r.Get<double>(n, "minBinWidth"), r.Get<double>(n, "minBinHeight"), r.Get<double>(n, "minDerivative")));
        // The learnable bounds are a parameter (transform.logBound of the owning coupling), so they come with the weights.
        ModelRegistry.Register<TanhBoundedAffineTransform>(nameof(TanhBoundedAffineTransform),
            t => new JsonObject { ["features"] = t.Features },
            (n, r) => new TanhBoundedAffineTransform(r.Get<int>(n, "features")));
    }
}
