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
/// <c>nflows demo digits</c>: a multi-scale RealNVP on the 8x8 handwritten digits (17 grey levels, uniformly dequantised), with
/// early stopping on a validation split; test bits per dimension on the discrete scale against diagonal and full-covariance
/// Gaussians fitted to the same training digits; sheets of test digits and samples; report.html.
/// </summary>
internal static class DigitsDemo
{
    /// <summary>The demo's name.</summary>
    public const string Name = "digits";

    private const int Levels = 17;

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
            using var split = DataSplit.Create(pixels, 0.1, 0.15, seed);
            using var generator = new Generator((ulong)seed);
            Tensor Images(Tensor levels) => Dequantization.Uniform(levels.to(ScalarType.Int64), Levels, generator).reshape(-1, 1, 8, 8);
            var train = Images(split.Train);
            var validation = Images(split.Validation);
            var test = Images(split.Test);
            var trainAndValidation = torch.cat(new[] { train, validation }, 0);
            double validationFraction = (double)validation.size(0) / trainAndValidation.size(0);
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"digits: {train.size(0)} training, {validation.size(0)} validation, {test.size(0)} test images (1 x 8 x 8, {Levels} levels); multiscale RealNVP, up to {iterations} steps x batch {batchSize}"));
            context.Output.WriteLine($"writing to {directory}");

            using var flow = Flows.MultiscaleRealNvp(seed: seed);
            var options = new FitOptions
            {
                Iterations = iterations,
                BatchSize = batchSize,
                LearningRate = 2e-3,
                Schedule = LearningRateSchedule.Cosine(0.05),
                WarmupIterations = 50,
                ValidationFraction = validationFraction,
                ValidationInterval = 100,
                Patience = 5,
                Seed = seed,
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
            var samples = flow.Sample(64, generator: generator);
            var cooler = ImageSampling.Sample(flow, 64, 0.7, generator);
            var figures = new[]
            {
                (Plots.ImageGrid(Path.Combine(directory, "test-digits.png"), test.narrow(0, 0, 64), columns: 8), "64 test digits (dequantised)."),
                (Plots.ImageGrid(Path.Combine(directory, "samples.png"), samples, columns: 8), "64 samples of the flow."),
                (Plots.ImageGrid(Path.Combine(directory, "samples-t0.7.png"), cooler, columns: 8), "64 samples at temperature 0.7 (base scaled by 0.7)."),
                (Plots.TrainingCurve(Path.Combine(directory, "training.png"), fit.Losses, fit.Validation.Select(v => (v.Iteration, v.Loss)).ToArray(), unit: "nats per image"),
                    "Loss per step (negative log-likelihood of the dequantised [0, 1] images, nats) and validation loss."),
            };
            string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
            var metrics = new JsonObject
            {
                ["command"] = command,
                ["demo"] = Name,
                ["train_images"] = train.size(0),
                ["validation_images"] = validation.size(0),
                ["test_images"] = test.size(0),
                ["iterations"] = iterations,
                ["completed_iterations"] = fit.Iterations,
                ["stopped_early"] = fit.StoppedEarly,
                ["best_iteration"] = fit.Best.Iteration,
                ["train_seconds"] = fit.Elapsed.TotalSeconds,
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
                .AddConfiguration("data", $"UCI digits, {train.size(0)}/{validation.size(0)}/{test.size(0)} images, uniform dequantisation over {Levels} levels")
                .AddConfiguration("training", $"up to {iterations} steps x {batchSize}, Adam 2e-3 cosine, early stopping (patience 5 x 100 steps)")
                .AddMetric("test bits/dim: flow", F(flowBits))
                .AddMetric("test bits/dim: full-covariance Gaussian", F(fullBits))
                .AddMetric("test bits/dim: diagonal Gaussian", F(diagonalBits))
                .AddMetric("test bits/dim: uniform over the levels", F(uniformBits))
                .AddMetric("steps", fit.Iterations + (fit.StoppedEarly ? $" (early stop; best at {fit.Best.Iteration})" : ""));
            foreach (var (file, caption) in figures) report.AddImage(file, caption);
            report.Write(Path.Combine(directory, RunFiles.Report));

            KeyValueTable.Write(console, new[]
            {
                ("steps", fit.Iterations.ToString(CultureInfo.InvariantCulture) + (fit.StoppedEarly ? " (early stop)" : "")),
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

    private static TabularData ReadDigits()
    {
        using var resource = typeof(DigitsDemo).Assembly.GetManifestResourceStream("digits.csv.gz")
            ?? throw new InvalidOperationException("The digits data is missing from this build of nflows.");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return TabularFile.Read(reader, "digits.csv.gz", new TabularReadOptions { HasHeader = false, DType = ScalarType.Float32 });
    }
}
