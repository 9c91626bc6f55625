using System;
using System.Collections.Generic;
using System.Diagnostics;
using NormalizingFlows.Data;
using NormalizingFlows.Distributions;
using NormalizingFlows.Images;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>
/// <c>realdata patches</c>: natural-image patches as in the BSDS300 benchmark. 8 x 8 grey patches (BT.601) cut at random from
/// camera, astronaut and coffee (training and validation) and from chelsea (test, a photograph the models never see), pixel levels
/// dequantised uniformly to [0, 1) over 256 levels, each patch's mean removed and its last pixel dropped (63 values). A MAF and a
/// neural spline autoregressive flow, standardised on the training rows, against diagonal and full-covariance Gaussians; test
/// log-likelihood in nats per patch (higher is better).
/// </summary>
internal static class PatchesRun
{
    private const int Size = 8;
    /// <summary>Values per prepared patch (the last pixel of a mean-free patch is dropped).</summary>
    internal const int Dimensions = Size * Size - 1;

    /// <summary>The photographs training and validation patches are cut from.</summary>
    internal static readonly string[] TrainingImages = { "camera.png", "astronaut.png", "coffee.png" };

    /// <summary>The photograph test patches are cut from (one the models never see).</summary>
    internal const string TestImage = "chelsea.png";

    public static RealDataResult Execute(RealDataSettings settings)
    {
        var clock = Stopwatch.StartNew();
        torch.set_num_threads(settings.Threads);
        using var scope = torch.NewDisposeScope();
        int perImage = settings.Quick ? 2_000 : 10_000;
        int testCount = settings.Quick ? 2_000 : 10_000;
        using var generator = new Generator((ulong)settings.Seed + 2000);
        var pieces = new List<Tensor>();
        foreach (var name in TrainingImages)
            pieces.Add(Prepare(ImageFile.Read(RealData.File(settings, name)), perImage, generator));
        var pool = torch.cat(pieces.ToArray(), 0);
        var test = Prepare(ImageFile.Read(RealData.File(settings, TestImage)), testCount, generator);
        const double fraction = 0.15;
        var (train, validation) = RealData.SplitLikeFit(pool, fraction, settings.Seed);

        var options = new FitOptions
        {
            Epochs = settings.MaxEpochs(quick: 2, full: 30),
            BatchSize = 256,
            LearningRate = 1e-3,
            ClipGradientNorm = 50,
            Seed = settings.Seed,
            ValidationFraction = fraction,
            Patience = settings.Quick ? null : 5,
            ProgressInterval = 1_000_000,
        };
        var scores = new List<ModelScore>();

        // Standardised on the training rows (FlowStandardization): the layers see unit-variance values; log-probs stay in the
        // units of the [0, 1) pixels, the standardisation's log-det included.
        using var maf = Flows.Maf(Dimensions, layers: settings.Quick ? 2 : 5, hiddenFeatures: settings.Quick ? new[] { 128 } : new[] { 256, 256 }, seed: settings.Seed)
            .Standardized(train);
        var mafFit = RealData.TrainFlow(maf, pool, validation, options);
        scores.Add(RealData.FlowScore("maf", maf, mafFit, -RealData.MeanNll(maf, test)));

        using var spline = Flows.NeuralSplineAutoregressive(Dimensions, layers: settings.Quick ? 2 : 3, hiddenFeatures: settings.Quick ? new[] { 128 } : new[] { 128, 128 },
            bins: 8, bound: 5.0, seed: settings.Seed).Standardized(train);
        // A spline layer costs about four MAF layers here (per-bin work on 63 values), so fewer epochs keep the run in minutes.
        var splineFit = RealData.TrainFlow(spline, pool, validation, options with { Epochs = settings.MaxEpochs(quick: 2, full: 12) });
        scores.Add(RealData.FlowScore("neural-spline-autoregressive", spline, splineFit, -RealData.MeanNll(spline, test)));

        var (diagonal, diagonalSeconds) = RealData.Timed(() => DiagonalGaussian.FitTo(train));
        using (diagonal)
            scores.Add(RealData.BaselineScore("diagonal-gaussian", 2 * Dimensions, RealData.MeanNll(diagonal, validation), -RealData.MeanNll(diagonal, test), diagonalSeconds));
        var (full, fullSeconds) = RealData.Timed(() => MultivariateGaussian.FitTo(train));
        using (full)
            scores.Add(RealData.BaselineScore("full-covariance-gaussian", Dimensions + Dimensions * (Dimensions + 1) / 2, RealData.MeanNll(full, validation),
                -RealData.MeanNll(full, test), fullSeconds));

        return new RealDataResult("patches", settings.Quick, settings.Seed, torch.get_num_threads(),
            "test log-likelihood in nats per patch (63 values, pixels in [0,1); higher is better)", Dimensions,
            train.shape[0], validation.shape[0], test.shape[0], scores,
            $"8x8 grey patches; train/validation from {string.Join(", ", TrainingImages)} ({perImage} each), test from {TestImage}; 256-level uniform dequantisation, per-patch mean removed, last pixel dropped",
            Math.Round(clock.Elapsed.TotalSeconds, 1));
    }

    /// <summary>Random 8 x 8 patches of a grey image of levels 0..255, dequantised to [0, 1), mean-free, last pixel dropped.</summary>
    internal static Tensor Prepare(Tensor image, int count, Generator generator)
    {
        using var patches = Patches.Extract(image, Size, count, generator);
        using var dequantised = Dequantization.Uniform(patches, 256, generator);
        return Patches.RemoveMean(dequantised);
    }
}
