using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;

namespace NormalizingFlows.Benchmarks;

/// <summary>One configuration of the PyTorch reference (../shared/peer/reference.py), rebuilt with the library.</summary>
/// <param name="Name">The reference's configuration name.</param>
/// <param name="Target">The target the flow learns.</param>
/// <param name="CreateFlow">Builds the untrained flow from a seed.</param>
/// <param name="Options">Training settings (iterations, batch and seed are overridden from the command line).</param>
internal sealed record BenchmarkConfig(string Name, Func<ITarget> Target, Func<long, Flow> CreateFlow, FitOptions Options)
{
    private static readonly int[] Hidden = { 64, 64 };

    /// <summary>The three configurations, as the reference defines them.</summary>
    public static IReadOnlyList<BenchmarkConfig> All { get; } = new[]
    {
        new BenchmarkConfig("seed000", () => new UniformNormal(), seed => Flows.LuCoupling(2, 16, Hidden, seed),
            new FitOptions { Iterations = 1000, BatchSize = 512, LearningRate = 1e-3, WeightDecay = 1e-5, Optimizer = OptimizerKind.Adam }),
        // The reference's RealNVP has unbounded log-scales (the paper's); the library's default soft-clamps them.
        new BenchmarkConfig("banana", () => new Banana(), seed => Flows.RealNvp(2, 8, Hidden, seed, logScaleBound: null),
            new FitOptions { Iterations = 1000, BatchSize = 512, LearningRate = 1e-3, WeightDecay = 0, Optimizer = OptimizerKind.Adam }),
        new BenchmarkConfig("leaky", () => new Banana(),
            seed => FlowCatalog.Get("leaky-coupling").Create(new PresetOptions(2, Layers: 9, HiddenFeatures: new[] { 4 }, Seed: seed)),
            new FitOptions { Iterations = 1000, BatchSize = 512, LearningRate = 1e-3, WeightDecay = 1e-4, Optimizer = OptimizerKind.AdamW }),
    };

    /// <summary>The configuration with this name.</summary>
    public static BenchmarkConfig Get(string name) => All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"Unknown configuration '{name}'. Known: {string.Join(", ", All.Select(c => c.Name))}.", nameof(name));
}
