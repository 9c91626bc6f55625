using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using NormalizingFlows.Cli.Output;
using NormalizingFlows.Cli.Rendering;
using NormalizingFlows.Data;
using NormalizingFlows.Distributions;
using NormalizingFlows.Images;
using NormalizingFlows.Plotting;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Demos;

/// <summary>
/// <c>nflows demo digits</c>: a multi-scale RealNVP on the 8x8 handwritten digits (17 grey levels), with early stopping on a
/// validation split; test bits per dimension on the discrete scale against diagonal and full-covariance Gaussians fitted to the
/// same training digits; sheets of test digits and samples; report.html. Training draws fresh uniform dequantisation noise for
/// every batch (<see cref="FitOptions.BatchTransform"/>): with one fixed draw the flow learns the noise and overfits within a few
/// hundred steps. The validation and test images get one seeded draw each, so that their losses are comparable step to step.
/// </summary>
internal static class DigitsDemo
{
    /// <summary>The demo's name.</summary>
    public const string Name = "digits";

    /// <summary>Default upper bound on the training steps.</summary>
    public const int DefaultIterations = 1000;

    /// <summary>Default rows per step.</summary>
    public const int DefaultBatchSize = 128;

    /// <summary>Fraction of the digits held out for validation (early stopping).</summary>
    public const double ValidationFraction = 0.10;

    /// <summary>Fraction of the digits held out for the test figures.</summary>
    public const double TestFraction = 0.15;

    /// <summary>The scale of every bits/dim figure the demo prints.</summary>
    public const string BitsScale = "discrete, 17 levels";

    private const int Levels = 17;
    private const double LearningRate = 2e-3;
    private const double WeightDecay = 0;

    /// <summary>Runs the demo; <paramref name="iterations"/> bounds the steps (early stopping may end sooner).</summary>
    public static int Run(int iterations, int batchSize, long seed, string? outputDirectory, string command, CliContext context, CancellationToken cancellationToken)
    {
        var console = context.CreateConsole();
        RunFolder? folder = null;
        try
        {
            // First, so that an unwritable folder fails before any training.
            folder = RunFolder.Prepare(outputDirectory ?? RunFiles.DefaultDirectory(Directory.GetCurrentDirectory(), Name, DateTime.Now));
            string directory = folder.Path;
            using var scope = torch.NewDisposeScope();
            using var table = ReadDigits();
            var pixels = table.Values.narrow(1, 0, 64);
            using var split = DataSplit.Create(pixels, ValidationFraction, TestFraction, seed);
            using var generator = new Generator((ulong)seed);
            // Levels 0..16 as float32 images; dequantised for training by the fit, a fresh draw every step.
            Tensor LevelImages(Tensor levels) => levels.reshape(-1, 1, 8, 8);
            Tensor Dequantised(Tensor levels, Generator g) => Dequantization.Uniform(levels.to(ScalarType.Int64), Levels, g).reshape(-1, 1, 8, 8);
            long trainCount = split.Train.size(0), validationCount = split.Validation.size(0), testCount = split.Test.size(0);
            // The fit holds out round(rows x fraction) of these rows for validation: exactly the split's validation count.
            var trainAndValidation = LevelImages(torch.cat(new[] { split.Train, split.Validation }, 0));
            double validationFraction = (double)validationCount / (trainCount + validationCount);
            // One seeded draw for the test images (and for the Gaussians' training digits): the test figure is the usual bound.
            var train = Dequantised(split.Train, generator);
            var test = Dequantised(split.Test, generator);
            string splitText = SplitText(trainCount, validationCount, testCount);
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"digits: {splitText} training/validation/test images (1 x 8 x 8, {Levels} levels, fresh dequantisation noise every step); multiscale RealNVP, up to {iterations} steps x batch {batchSize}"));
            context.Output.WriteLine($"writing to {directory}");

            using var flow = Flows.MultiscaleRealNvp(seed: seed);
            var options = new FitOptions
            {
                Iterations = iterations,
                BatchSize = batchSize,
                LearningRate = LearningRate,
                WeightDecay = WeightDecay,
                Schedule = LearningRateSchedule.Cosine(0.05),
                WarmupIterations = 50,
                ValidationFraction = validationFraction,
                ValidationInterval = ValidationInterval,
                Patience = Patience,
                Seed = seed,
                BatchTransform = (levels, g) => Dequantization.Uniform(levels, Levels, g),
                ProgressInterval = TrainingProgressView.ReportInterval(iterations, context.Interactive),
            };
            FitResult fit;
            try
            {
                fit = TrainingProgressView.Run(context, console, "training digits", iterations,
                    progress => Fit.ToData(flow, trainAndValidation, options, progress, cancellationToken));
            }
            catch (FitFailedException e)
            {
                // Training started and failed: keep the losses so far.
                RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), e.Result.Losses, e.Result.Validation);
                throw;
            }
            if (fit.Cancelled)
            {
                // What a first Ctrl+C promised, on disk before the evaluation: a second Ctrl+C from here on ends the run at once.
                flow.Save(Path.Combine(directory, RunFiles.Model), new JsonObject { ["command"] = command, ["demo"] = Name });
                RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), fit.Losses, fit.Validation);
                RunFiles.WriteJson(Path.Combine(directory, RunFiles.Metrics), new JsonObject
                {
                    ["command"] = command, ["demo"] = Name, ["iterations"] = iterations, ["completed_iterations"] = fit.Iterations,
                    ["train_seconds"] = fit.Elapsed.TotalSeconds, ["seed"] = seed, ["cancelled"] = true,
                    ["skipped_steps"] = fit.SkippedSteps, ["best_iteration"] = fit.Best.Iteration, ["restored_best"] = fit.RestoredBest,
                    ["train_images"] = trainCount, ["validation_images"] = validationCount, ["test_images"] = testCount,
                });
                context.ResultsWritten();
                if (context.Hurry.IsCancellationRequested)
                {
                    context.Output.WriteLine($"interrupted: wrote {RunFiles.Model}, {RunFiles.Losses} and {RunFiles.Metrics} (no evaluation) to {directory}; no figures or report");
                    return ExitCodes.Interrupted;
                }
            }

            double Bits(double nll) => Dequantization.BitsPerDimension(nll, 64, Levels);
            double flowBits = Bits(NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(flow, test));
            var flatTrain = train.reshape(-1, 64).to(ScalarType.Float64);
            var flatTest = test.reshape(-1, 64).to(ScalarType.Float64);
            using var diagonal = DiagonalGaussian.FitTo(flatTrain);
            using var full = MultivariateGaussian.FitTo(flatTrain);
            double diagonalBits = Bits(NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(diagonal, flatTest));
            double fullBits = Bits(NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(full, flatTest));
            double uniformBits = Math.Log2(Levels);

            flow.Save(Path.Combine(directory, RunFiles.Model), new JsonObject { ["command"] = command, ["demo"] = Name });
            string onnxNote = OnnxModelFile.TryWrite(directory, flow).Note;
            var samples = flow.Sample(64, generator: generator);
            var cooler = ImageSampling.Sample(flow, 64, 0.7, generator);
            var figures = new[]
            {
                (Plots.ImageGrid(Path.Combine(directory, "test-digits.png"), test.narrow(0, 0, 64), columns: 8), "64 test digits (dequantised)."),
                (Plots.ImageGrid(Path.Combine(directory, "samples.png"), samples, columns: 8), "64 samples of the flow."),
                (Plots.ImageGrid(Path.Combine(directory, "samples-t0.7.png"), cooler, columns: 8), "64 samples at temperature 0.7 (base scaled by 0.7)."),
                (Plots.TrainingCurve(Path.Combine(directory, "training.png"), fit.Losses, fit.Validation.Select(v => (v.Iteration, v.Loss)).ToArray(), unit: "nats per image"),
                    $"Training loss per step (negative log-likelihood of the dequantised [0, 1] images in nats, fresh noise every step) and validation loss every {ValidationInterval} steps (one fixed noise draw); " +
                    (fit.RestoredBest ? $"the model keeps the weights of step {fit.Best.Iteration}, the best validation loss." : "no best step was restored.")),
            };
            string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
            var metrics = new JsonObject
            {
                ["command"] = command,
                ["demo"] = Name,
                ["train_images"] = trainCount,
                ["validation_images"] = validationCount,
                ["test_images"] = testCount,
                ["split"] = splitText,
                ["dequantisation"] = "uniform; training: fresh noise every step; validation and test: one seeded draw",
                ["iterations"] = iterations,
                ["completed_iterations"] = fit.Iterations,
                ["skipped_steps"] = fit.SkippedSteps,
                ["stopped_early"] = fit.StoppedEarly,
                ["best_iteration"] = fit.Best.Iteration,
                ["best_validation_nll_nats"] = double.IsFinite(fit.Best.Loss) ? fit.Best.Loss : null,
                ["restored_best"] = fit.RestoredBest,
                ["weight_decay"] = WeightDecay,
                ["train_seconds"] = fit.Elapsed.TotalSeconds,
                ["bits_per_dim_scale"] = BitsScale,
                ["test_bits_per_dim"] = flowBits,
                ["diagonal_gaussian_bits_per_dim"] = diagonalBits,
                ["full_gaussian_bits_per_dim"] = fullBits,
                ["uniform_bits_per_dim"] = uniformBits,
                ["seed"] = seed,
            };
            RunFiles.WriteJson(Path.Combine(directory, RunFiles.Metrics), metrics);
            RunFiles.WriteLosses(Path.Combine(directory, RunFiles.Losses), fit.Losses, fit.Validation);
            var report = new RunReport("nflows demo digits").WithCommand(command)
                .AddConfiguration("flow", "Flows.MultiscaleRealNvp(1, 8, 8): 3 scales x 3 affine couplings (checkerboard, then channel), ConvNet conditioners, logit preprocessing")
                .AddConfiguration("data", $"UCI digits, {splitText} training/validation/test images; uniform dequantisation over {Levels} levels, fresh noise every training step, one seeded draw for validation and test")
                .AddConfiguration("training", string.Create(CultureInfo.InvariantCulture,
                    $"up to {iterations} steps x {batchSize}, Adam {LearningRate} cosine{(WeightDecay > 0 ? $", weight decay {WeightDecay}" : "")}, early stopping (patience {Patience} x {ValidationInterval} steps)"))
                .AddConfiguration("ONNX model", onnxNote + " (images [batch, 1, 8, 8] of dequantised levels, as the flow takes them)")
                .AddMetric($"test bits/dim ({BitsScale}): flow", F(flowBits))
                .AddMetric($"test bits/dim ({BitsScale}): full-covariance Gaussian", F(fullBits))
                .AddMetric($"test bits/dim ({BitsScale}): diagonal Gaussian", F(diagonalBits))
                .AddMetric($"test bits/dim ({BitsScale}): uniform over the levels", F(uniformBits))
                .AddMetric("steps", StepsText(fit))
                .AddMetric("skipped steps (non-finite loss or gradient; parameters left as they were)", fit.SkippedSteps.ToString(CultureInfo.InvariantCulture))
                .AddMetric("best step restored", BestText(fit));
            foreach (var (file, caption) in figures) report.AddImage(file, caption);
            report.Write(Path.Combine(directory, RunFiles.Report));

            KeyValueTable.Write(console, new[]
            {
                ("split train/val/test", splitText),
                ("steps", StepsText(fit)),
                ("skipped steps", fit.SkippedSteps.ToString(CultureInfo.InvariantCulture) + " (non-finite)"),
                ("best step restored", BestText(fit)),
                ("bits/dim scale", BitsScale),
                ("test bits/dim: flow", F(flowBits)),
                ("full-covariance Gaussian", F(fullBits)),
                ("diagonal Gaussian", F(diagonalBits)),
                ("uniform", F(uniformBits)),
            });
            context.Output.WriteLine($"wrote {RunFiles.Metrics}, {RunFiles.Losses}, {RunFiles.Model}, {figures.Length} figures and {RunFiles.Report} to {directory}");
            return fit.Cancelled ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            folder?.RemoveIfEmpty();
            context.Error.WriteLine($"error: demo digits failed{(folder is null ? "" : $" (output folder {folder.Path})")}: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    private const int ValidationInterval = 100;
    private const int Patience = 5;

    /// <summary>"1347/180/270 (75/10/15 %)": the numbers of training, validation and test images actually used.</summary>
    internal static string SplitText(long train, long validation, long test)
    {
        double total = train + validation + test;
        return string.Create(CultureInfo.InvariantCulture,
            $"{train}/{validation}/{test} ({100 * train / total:F0}/{100 * validation / total:F0}/{100 * test / total:F0} %)");
    }

    private static string StepsText(FitResult fit) =>
        fit.Iterations.ToString(CultureInfo.InvariantCulture) + (fit.StoppedEarly ? " (early stop)" : fit.Cancelled ? " (cancelled)" : "");

    private static string BestText(FitResult fit) =>
        fit.RestoredBest
            ? string.Create(CultureInfo.InvariantCulture, $"step {fit.Best.Iteration} (val {fit.Best.Loss:F2} nats)")
            : "none (no validation loss)";

    private static TabularData ReadDigits()
    {
        using var resource = typeof(DigitsDemo).Assembly.GetManifestResourceStream("digits.csv.gz")
            ?? throw new InvalidOperationException("The digits data is missing from this build of nflows.");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return TabularFile.Read(reader, "digits.csv.gz", new TabularReadOptions { HasHeader = false, DType = ScalarType.Float32 });
    }
}
