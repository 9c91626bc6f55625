using NormalizingFlows.Bijectors;
using TorchSharp;

namespace NormalizingFlows.Tests.Support;

public static partial class BijectorRegistry
{
    /// <summary>The standardisation that puts data in standard units (fixed buffers, no parameters).</summary>
    private static readonly BijectorCase[] DataCases =
    {
        new("standardization-fixed", _ => new Standardization(new[] { 100.0, -50.0, 0.5 }, new[] { 20.0, 0.01, 3.0 }), 3),
        new("standardization-fitted", g =>
        {
            using var scope = torch.NewDisposeScope();
            return Standardization.FitTo(torch.randn(new long[] { 64, 4 }, generator: g).mul(torch.tensor(new[] { 2f, 0.5f, 1f, 7f })).add(3f));
        }, 4),
    };
}
