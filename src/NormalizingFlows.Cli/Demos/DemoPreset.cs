using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;

namespace NormalizingFlows.Cli.Demos;

/// <summary>
/// One built-in demo: a target, the flow that learns it and the tutorial's training settings.
/// </summary>
/// <param name="Name">The target's command-line name.</param>
/// <param name="CreateTarget">Makes the target.</param>
/// <param name="FlowName">The flow as written in metrics.json.</param>
/// <param name="CreateFlow">Makes the untrained flow from a seed.</param>
/// <param name="Iterations">Default number of training steps.</param>
/// <param name="BatchSize">Default rows per step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="WeightDecay">Adam's weight decay (L2 penalty).</param>
/// <param name="Grid">Where the grid integral of q is taken: a box holding almost all of the target's mass.</param>
/// <param name="Optimizer">Adam (an L2 penalty) or AdamW (decoupled weight decay).</param>
/// <param name="Schedule">How the learning rate changes over the steps; null for constant.</param>
internal sealed record DemoPreset(
    string Name,
    Func<ITarget> CreateTarget,
    string FlowName,
    Func<long, Flow> CreateFlow,
    int Iterations,
    int BatchSize,
    double LearningRate,
    double WeightDecay,
    GridBox Grid,
    OptimizerKind Optimizer = OptimizerKind.Adam,
    LearningRateSchedule? Schedule = null)
{
    private static readonly int[] Hidden = { 64, 64 };

    /// <summary>Default number of fresh target samples for the test NLL and KL.</summary>
    public const long DefaultEvalSamples = 100_000;

    /// <summary>The first source tutorial: a ~ U[1, 2], b | a ~ N(a, a), learned by 16 x [affine coupling + LU linear].</summary>
    public static DemoPreset UniformNormal { get; } = new(
        "uniform-normal",
        () => new UniformNormal(),
        "LuCoupling(features: 2, steps: 16, hidden: [64, 64])",
        seed => Flows.LuCoupling(2, 16, Hidden, seed),
        Iterations: 1000,
        BatchSize: 512,
        LearningRate: 1e-3,
        WeightDecay: 1e-5,
        GridOf(new UniformNormal()));

    /// <summary>The banana (x2 ~ N(0, 16), x1 | x2 ~ N(x2^2 / 4, 1)), learned by RealNVP with 8 couplings.</summary>
    public static DemoPreset Banana { get; } = new(
        "banana",
        () => new Banana(),
        "RealNvp(features: 2, layers: 8, hidden: [64, 64], logScaleBound: 4)",
        seed => Flows.RealNvp(2, 8, Hidden, seed),
        Iterations: 2000,
        BatchSize: 512,
        LearningRate: 1e-3,
        WeightDecay: 0,
        GridOf(new Banana()));

    /// <summary>The second source tutorial: the banana learned by 9 x [learnable leaky ReLU + affine coupling with a tanh-bounded
    /// log-scale], hidden width 4, AdamW with weight decay 1e-4. The tutorial trains 50 000 full-batch steps on 1024 fixed samples at
    /// 1e-4; here 40 000 steps of 2048 fresh samples at 3e-3 annealed to 1 % (1000 steps of 512 at a constant 1e-3 left KL 4.27:
    /// a spike; batches of 512 left two of five seeds in a worse optimum). The five-seed spread is in docs/reliability.md.</summary>
    public static DemoPreset LeakyCoupling { get; } = new(
        "leaky-coupling",
        () => new Banana(),
        "LeakyCoupling(features: 2, layers: 9, hidden: [4])",
        seed => Flows.LeakyCoupling(2, 9, new[] { 4 }, seed),
        Iterations: 40_000,
        BatchSize: 2048,
        LearningRate: 3e-3,
        WeightDecay: 1e-4,
        GridOf(new Banana()),
        OptimizerKind.AdamW,
        LearningRateSchedule.Cosine(0.01));

    /// <summary>The three source tutorials, which <c>nflows demo</c> without a name runs one after the other.</summary>
    public static IReadOnlyList<DemoPreset> Tutorials { get; } = new[] { UniformNormal, Banana, LeakyCoupling };

    /// <summary>Every demo, in the order help lists them: the three tutorials, then every other catalogue target with an
    /// exact normalised density (learned by RealNVP with 8 couplings, 2000 iterations, unless --flow says otherwise).</summary>
    public static IReadOnlyList<DemoPreset> All { get; } = new[] { UniformNormal, Banana, LeakyCoupling }
        .Concat(TargetCatalog.All
            .Where(e => e.Name != UniformNormal.Name && e.Name != Banana.Name && e.Create().IsNormalized)
            .Select(e => new DemoPreset(e.Name, e.Create, Banana.FlowName, Banana.CreateFlow, 2000, 512, 1e-3, 0, GridOf(e.Create()))))
        .ToArray();

    /// <summary>The known target names, comma separated.</summary>
    public static string KnownNames => string.Join(", ", All.Select(p => p.Name));

    /// <summary>Finds a demo by target name (case-insensitive).</summary>
    public static DemoPreset? Find(string? name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>This demo with its flow replaced by a catalogue preset (default layers and hidden widths).</summary>
    public DemoPreset WithFlow(FlowPreset flow) =>
        this with { FlowName = flow.Name, CreateFlow = seed => flow.Create(new PresetOptions(2, Seed: seed)) };

    private static GridBox GridOf(ITarget target) =>
        new(target.Bounds.XMin, target.Bounds.XMax, target.Bounds.YMin, target.Bounds.YMax, DemoSettings.DefaultIntegralSteps);
}
