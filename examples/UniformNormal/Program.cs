// The first source tutorial, in C#: learn a ~ U[1, 2], b | a ~ N(a, a) with 16 x [affine coupling + LU linear].
// Run: dotnet run --project examples/UniformNormal -c Release [-- --quick]
using System;
using System.Linq;
using NormalizingFlows;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;

namespace Examples.UniformNormal;

/// <summary>What the tutorial measured.</summary>
public sealed record Report(double Kl, double TestNll, double GridIntegral, double WorstMarginalError, int SkippedSteps);

public static class Tutorial
{
    public static int Main(string[] args)
    {
        var report = Run(quick: args.Contains("--quick"), Console.Out);
        return double.IsFinite(report.Kl) ? 0 : 1;
    }

    /// <summary>Trains the tutorial's flow and compares it with the exact density.</summary>
    public static Report Run(bool quick, System.IO.TextWriter log)
    {
        var target = new NormalizingFlows.Targets.UniformNormal();
        // 16 steps of [affine coupling (MLP 1-64-64-2, last layer zero) + LU linear], standard normal base.
        using var flow = Flows.LuCoupling(features: 2, steps: 16, hiddenFeatures: new[] { 64, 64 }, seed: 0);

        // Adam, learning rate 1e-3, weight decay 1e-5, 1000 steps of 512 fresh samples; non-finite steps are skipped.
        var options = new FitOptions { Iterations = quick ? 100 : 1000, BatchSize = 512, LearningRate = 1e-3, WeightDecay = 1e-5, ProgressInterval = quick ? 50 : 100 };
        var fit = Fit.ToData(flow, target, options, new PrintProgress(log));

        // Exact comparisons: KL(p||q) and test NLL on fresh samples, and the integral of q over a box holding the mass.
        double kl = Metrics.KlDivergence(target, flow, 100_000);
        double nll = Metrics.TestNegativeLogLikelihood(target, flow, 100_000);
        var box = target.Bounds;
        double integral = Metrics.GridIntegral(flow, box.XMin, box.XMax, box.YMin, box.YMax, 400);

        // Marginals: q's by integrating over the grid; p(b) has no closed form, so it is integrated numerically too.
        var learned = GridMarginals.Of(flow, box, 200);
        var exact = GridMarginals.Of(target, box, 200);
        double worst = learned.MarginalY.Zip(exact.MarginalY, (q, p) => Math.Abs(q - p)).Max();

        log.WriteLine($"KL(p||q) = {kl:F4} nats, test NLL = {nll:F4} nats, integral of q = {integral:F4}");
        log.WriteLine($"largest error of the learned marginal p(b): {worst:F4} (skipped steps: {fit.SkippedSteps})");
        return new Report(kl, nll, integral, worst, fit.SkippedSteps);
    }
}

/// <summary>Prints each report at once, on the training thread (<see cref="Progress{T}"/> would post it to the thread pool).</summary>
internal sealed class PrintProgress(System.IO.TextWriter log) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p) => log.WriteLine($"iteration {p.Iteration,5}  loss {p.Loss:F4}");
}
