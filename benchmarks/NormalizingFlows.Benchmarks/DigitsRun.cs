using System;
using System.Collections.Generic;
using System.Diagnostics;
using NormalizingFlows.Data;
using NormalizingFlows.Distributions;
using NormalizingFlows.Images;
using NormalizingFlows.Training;
using NormalizingFlows.Plotting;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>
/// <c>realdata digits</c>: the UCI handwritten digits (1797 images, 1 x 8 x 8, grey levels 0..16). A fixed-seed 70/15/15 split;
/// uniform dequantisation to [0, 1); a multi-scale RealNVP and a Glow trained with early stopping on the validation rows; diagonal
/// and full-covariance Gaussians fitted in closed form to the same training rows; test bits per dimension on the discrete
/// scale (lower is better).
/// </summary>
internal static class DigitsRun
{
    private const int Levels = 17;
    private const int Dimensions = 64;

    public static RealDataResult Execute(RealDataSettings settings)
    {
        var clock = Stopwatch.StartNew();
        torch.set_num_threads(settings.Threads);
        using var scope = torch.NewDisposeScope();
        using var table = TabularFile.Read(RealData.File(settings, "digits.csv.gz"), new TabularReadOptions { HasHeader = false });
        var levels = table.Values.narrow(1, 0, Dimensions).reshape(-1, 1, 8, 8);
        using var noise = new Generator((ulong)settings.Seed + 1000);
        // One draw of dequantisation noise per pixel, kept fixed for training, validation and test.
        var data = Dequantization.Uniform(levels, Levels, noise);
        var (split, pool, fraction, train, validation) = RealData.PoolAndSplit(data, settings.Seed);
        using var ownsTest = split;
        var test = split.Test;

        var options = new FitOptions
        {
            Epochs = settings.MaxEpochs(quick: 3, full: 150),
            BatchSize = 64,
            LearningRate = 1e-3,
            Schedule = LearningRateSchedule.Constant,
            ClipGradientNorm = 50,
            Seed = settings.Seed,
            ValidationFraction = fraction,
            Patience = settings.Quick ? null : 15,
            ProgressInterval = 1_000_000,
        };
        var scores = new List<ModelScore>();
        double Bits(double nll) => Math.Round(Dequantization.BitsPerDimension(nll, Dimensions, Levels), 4);

        using var realNvp = settings.Quick
            ? Flows.MultiscaleRealNvp(1, 8, 8, scales: 2, stepsPerScale: 2, hiddenChannels: 16, seed: settings.Seed)
            : Flows.MultiscaleRealNvp(1, 8, 8, scales: 3, stepsPerScale: 3, hiddenChannels: 32, seed: settings.Seed);
        var realNvpFit = RealData.TrainFlow(realNvp, pool, validation, options);
        scores.Add(RealData.FlowScore("multiscale-real-nvp", realNvp, realNvpFit, Bits(RealData.MeanNll(realNvp, test))));

        using var glow = settings.Quick
            ? Flows.GlowImage(1, 8, 8, scales: 2, stepsPerScale: 2, hiddenChannels: 16, seed: settings.Seed)
            : Flows.GlowImage(1, 8, 8, scales: 2, stepsPerScale: 4, hiddenChannels: 32, seed: settings.Seed);
        var glowFit = RealData.TrainFlow(glow, pool, validation, options);
        scores.Add(RealData.FlowScore("glow", glow, glowFit, Bits(RealData.MeanNll(glow, test))));

        // Baselines on the same dequantised [0, 1) pixels as the flows' data side (no logit), flattened to 64 values.
        var flatTrain = train.reshape(-1, Dimensions);
        var (diagonal, diagonalSeconds) = RealData.Timed(() => DiagonalGaussian.FitTo(flatTrain));
        using (diagonal)
            scores.Add(RealData.BaselineScore("diagonal-gaussian", 2 * Dimensions, RealData.MeanNll(diagonal, validation.reshape(-1, Dimensions)),
                Bits(RealData.MeanNll(diagonal, test.reshape(-1, Dimensions))), diagonalSeconds));
        var (full, fullSeconds) = RealData.Timed(() => MultivariateGaussian.FitTo(flatTrain));
        using (full)
            scores.Add(RealData.BaselineScore("full-covariance-gaussian", Dimensions + Dimensions * (Dimensions + 1) / 2,
                RealData.MeanNll(full, validation.reshape(-1, Dimensions)), Bits(RealData.MeanNll(full, test.reshape(-1, Dimensions))), fullSeconds));

        string? png = null;
        if (settings.SamplesPng is { } path)
            png = WriteSheet(path, test, realNvp, glow, settings.Seed);

        return new RealDataResult("digits", settings.Quick, settings.Seed, torch.get_num_threads(),
            "test bits per dimension on the discrete 17-level scale (lower is better)", Dimensions,
            train.shape[0], validation.shape[0], test.shape[0], scores,
            "uniform dequantisation (one fixed draw); Gaussians fitted to the dequantised [0,1) pixels without logit; flows have a logit layer inside, their density is of the same [0,1) data; uniform over 17 levels = 4.0875",
            Math.Round(clock.Elapsed.TotalSeconds, 1)) { SamplesPng = png };
    }

    /// <summary>A PNG sheet (<see cref="Plots.ImageGrid"/>): three rows of 16 digits, test digits, RealNVP samples, Glow samples.</summary>
    private static string WriteSheet(string path, Tensor test, Flow realNvp, Flow glow, long seed)
    {
        const int perRow = 16;
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed + 7);
        var sheet = torch.cat(new[] { test.narrow(0, 0, perRow), realNvp.Sample(perRow, generator: generator), glow.Sample(perRow, generator: generator) }, 0);
        return Plots.ImageGrid(path, sheet, columns: perRow, scale: 4);
    }
}
