namespace NormalizingFlows.Cli.Fitting;

/// <summary>A <c>train</c> run's settings after parsing and validation.</summary>
/// <param name="DataPath">The training data: CSV or whitespace-separated text (optionally .gz), or a NumPy .npy file.</param>
/// <param name="Flow">Catalogue name of the flow.</param>
/// <param name="Layers">Layers of the flow; null for the preset's default.</param>
/// <param name="Hidden">Hidden widths; null for the preset's default.</param>
/// <param name="Epochs">Passes over the training rows.</param>
/// <param name="BatchSize">Rows per step.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="Cosine">Cosine-anneal the learning rate to 1 % (else constant).</param>
/// <param name="WarmupIterations">Steps of linear warm-up.</param>
/// <param name="ClipGradientNorm">Gradient-norm bound; null for none.</param>
/// <param name="ValidationFraction">Rows held out for validation and early stopping; 0 for none.</param>
/// <param name="Patience">Validation losses without improvement before stopping; null never stops early.</param>
/// <param name="Standardize">Standardise the columns (statistics of the training file, kept in the model).</param>
/// <param name="Seed">Seed of the initial weights, the split and the minibatch order.</param>
/// <param name="Device">Where to compute (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>).</param>
/// <param name="Dtype">Precision (<c>float32</c> or <c>float64</c>).</param>
/// <param name="CheckpointEvery">Write a checkpoint every this many steps; null for none.</param>
/// <param name="ResumeFrom">Continue the run saved in this checkpoint; null for a fresh run.</param>
/// <param name="OutputDirectory">Where the files go; null for <c>./runs/train-&lt;file&gt;-&lt;timestamp&gt;</c>.</param>
/// <param name="Command">The command line that reproduces the run.</param>
internal sealed record TrainSettings(
    string DataPath, string Flow, int? Layers, int[]? Hidden, int Epochs, int BatchSize, double LearningRate, bool Cosine,
    int WarmupIterations, double? ClipGradientNorm, double ValidationFraction, int? Patience, bool Standardize, long Seed,
    string Device, string Dtype, int? CheckpointEvery, string? ResumeFrom, string? OutputDirectory, string Command)
{
    /// <summary>With <c>--images</c>: the patch side and count; null when <see cref="DataPath"/> is a table or array.</summary>
    public PatchSettings? Patches { get; init; }

    /// <summary>With <c>--dequantize uniform</c>: fresh uniform noise in [0, 1) is added to every integer-valued column at every
    /// training step, and the reported densities are those of the dequantised data.</summary>
    public bool Dequantize { get; init; }

    /// <summary>How large a data file the run accepts (<c>--max-rows</c>, <c>--max-line-bytes</c>).</summary>
    public Inference.InputLimits Limits { get; init; } = Inference.InputLimits.Default;
}

/// <summary>How training rows are cut from images.</summary>
/// <param name="Size">Side of a square patch in pixels.</param>
/// <param name="Count">Number of patches.</param>
internal sealed record PatchSettings(int Size, int Count);
