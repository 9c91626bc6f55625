namespace NormalizingFlows.Cli.Demos;

/// <summary>A demo run's settings after parsing and validation.</summary>
/// <param name="Preset">The demo (target, flow, tutorial settings).</param>
/// <param name="Iterations">Training steps.</param>
/// <param name="BatchSize">Rows per step.</param>
/// <param name="Seed">Seed of the initial weights and the training samples.</param>
/// <param name="EvalSamples">Fresh target samples for the test NLL and KL.</param>
/// <param name="OutputDirectory">Where the files go; null for <c>./runs/&lt;target&gt;-&lt;timestamp&gt;</c>.</param>
/// <param name="Command">The command line that reproduces the run.</param>
internal sealed record DemoSettings(DemoPreset Preset, int Iterations, int BatchSize, long Seed, long EvalSamples, string? OutputDirectory, string Command)
{
    /// <summary>Seed of the evaluation samples: different from the training stream, so they are fresh.</summary>
    public long EvalSeed => unchecked(Seed + 1);
}
