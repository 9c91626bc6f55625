// The second source tutorial, in C#: 9 x [leaky ReLU with a learnable slope + affine coupling whose log-scale is
// c tanh(s / c) with a learnable bound c], trained with AdamW on the banana, then every layer's output kept while sampling.
// Run: dotnet run --project examples/LeakyCoupling -c Release [-- --quick]
using System;
using System.Linq;
using NormalizingFlows;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Examples.LeakyCoupling;

/// <summary>What the tutorial measured.</summary>
public sealed record Report(double Kl, double FirstLoss, double LastLoss, int Layers, double[] SpreadPerLayer);

public static class Tutorial
{
    public static int Main(string[] args)
    {
        var report = Run(quick: args.Contains("--quick"), Console.Out);
        return double.IsFinite(report.Kl) ? 0 : 1;
    }

    public static Report Run(bool quick, System.IO.TextWriter log)
    {
        var target = new NormalizingFlows.Targets.Banana();
        using var flow = Flows.LeakyCoupling(features: 2, layers: 9, hiddenFeatures: new[] { 4 }, seed: 0);
        var options = new FitOptions { Iterations = quick ? 100 : 1000, BatchSize = 512, LearningRate = 1e-3, WeightDecay = 1e-4, Optimizer = OptimizerKind.AdamW };
        var fit = Fit.ToData(flow, target, options);
        double first = fit.Losses.Take(10).Average(), last = fit.Losses.TakeLast(10).Average();
        double kl = Metrics.KlDivergence(target, flow, 100_000);
        log.WriteLine($"loss {first:F2} -> {last:F2}; KL(p||q) = {kl:F4} nats (the tutorial's small networks: hidden width 4 learn slowly)");

        // Sampling with every intermediate layer kept: the base points, then each layer's output.
        using var scope = torch.NewDisposeScope();
        var z = flow.Base.Sample(2000, generator: new Generator(3));
        var path = flow.Trajectory(z);
        var spread = path.Select(layer => layer.std(new long[] { 0 }).mean().ToDouble()).ToArray();
        for (int i = 0; i < path.Count; i++)
            log.WriteLine($"layer {i,2}: mean spread {spread[i]:F3}");
        return new Report(kl, first, last, path.Count - 1, spread);
    }
}
