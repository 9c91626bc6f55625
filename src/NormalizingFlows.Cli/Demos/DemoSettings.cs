namespace NormalizingFlows.Cli.Demos;

/// <summary>A demo run's settings after parsing and validation.</summary>
/// <param name="Preset">The demo (target, flow, tutorial settings).</param>
/// <param name="Iterations">Training steps.</param>
/// <param name="BatchSize">Rows per step.</param>
/// <param name="Seed">Seed of the initial weights and the training samples.</param>
/// <param name="EvalSamples">Fresh target samples for the test NLL and KL.</param>
/// <param name="OutputDirectory">Where the files go; null for <c>./runs/&lt;target&gt;-&lt;timestamp&gt;</c>.</param>
/// <param name="Command">The command line that reproduces the run.</param>
/// <param name="GridSteps">Points per axis of every grid the learned density is evaluated on (grid integral, density and marginal
/// pictures, training snapshots); null for each one's default (<see cref="DefaultIntegralSteps"/>, <see cref="DefaultDensitySteps"/>,
/// <see cref="DefaultMarginalSteps"/>, <see cref="DefaultSnapshotSteps"/>).</param>
internal sealed record DemoSettings(DemoPreset Preset, int Iterations, int BatchSize, long Seed, long EvalSamples, string? OutputDirectory, string Command,
    int? GridSteps = null)
{
    /// <summary>Default points per axis of the grid integral of q.</summary>
    public const int DefaultIntegralSteps = 400;

    /// <summary>Default points per axis of the p / q / q - p picture.</summary>
    public const int DefaultDensitySteps = NormalizingFlows.Plotting.DensityGrid.DefaultSteps;

    /// <summary>Default points per axis of the marginals' numerical integration.</summary>
    public const int DefaultMarginalSteps = 400;

    /// <summary>Default points per axis of each training snapshot.</summary>
    public const int DefaultSnapshotSteps = NormalizingFlows.Plotting.DensitySnapshots.DefaultSteps;

    /// <summary>Largest accepted <see cref="GridSteps"/> (the plotting package's limit).</summary>
    public const int MaximumGridSteps = 4096;

    /// <summary>Seed of the evaluation samples: different from the training stream, so they are fresh.</summary>
    public long EvalSeed => unchecked(Seed + 1);
}
