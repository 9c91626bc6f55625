using System;
using System.Collections.Generic;
using NormalizingFlows.Internal;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Diagnostics;

/// <summary>Importance-sampling diagnostics of a flow fitted to a (possibly unnormalised) density: effective sample size and <c>log Z</c>.</summary>
public static class ImportanceSampling
{
    /// <summary>Draws <paramref name="samples"/> points from <paramref name="model"/> and weighs them by <c>p~(x) / q(x)</c>,
    /// in chunks, in inference mode, in float64 sums, with exact log-densities where <see cref="ExactEvaluation"/> affords them.</summary>
    /// <param name="model">The proposal: an unconditional model with a sampler.</param>
    /// <param name="logDensity">The unnormalised target log-density: <c>[batch, ...EventShape] -> [batch]</c>.</param>
    /// <param name="samples">Number of draws; positive.</param>
    /// <param name="seed">Seed of the draws.</param>
    /// <exception cref="ArgumentException">The model is conditional or the density returns the wrong shape.</exception>
    public static ImportanceEstimate Estimate(Distribution model, Func<Tensor, Tensor> logDensity, long samples = 100_000, long seed = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(logDensity);
        Guard.Positive(samples, nameof(samples));
        if (model.ContextFeatures != 0)
            throw new ArgumentException($"Importance sampling needs an unconditional model; this one takes a context of {model.ContextFeatures} features.", nameof(model));
        bool training = model.training;
        model.eval();
        using var exact = ExactEvaluation.Enter(model);
        try
        {
            using var generator = new Generator((ulong)seed);
            using var inference = torch.inference_mode();
            var chunkMaxima = new List<(double LogSum, double LogSumSquares)>();
            double sumLogWeights = 0;
            for (long start = 0; start < samples; start += Metrics.ChunkSize)
            {
                using var scope = torch.NewDisposeScope();
                long count = Math.Min(Metrics.ChunkSize, samples - start);
                var (x, logQ) = model.SampleWithLogProbCore(count, null, generator);
                var logP = logDensity(x);
                if (logP.dim() != 1 || logP.size(0) != count)
                    throw new ArgumentException($"Expected the log-density to return shape [{count}] for {count} points; got {Guard.Shape(logP.shape)}.", nameof(logDensity));
                var logWeights = logP.to(ScalarType.Float64).sub(logQ.to(ScalarType.Float64));
                sumLogWeights += TensorValues.ToDouble(logWeights.sum());
                chunkMaxima.Add((TensorValues.ToDouble(logWeights.logsumexp(0)), TensorValues.ToDouble(logWeights.mul(Scalars.Two).logsumexp(0))));
            }
            double logSum = LogSumExp(chunkMaxima.ConvertAll(c => c.LogSum));
            double logSumSquares = LogSumExp(chunkMaxima.ConvertAll(c => c.LogSumSquares));
            double logZ = logSum - Math.Log(samples);
            double ess = Math.Exp(2 * logSum - logSumSquares);
            return new ImportanceEstimate(logZ, double.IsNaN(ess) ? 0 : ess, samples, sumLogWeights / samples);
        }
        finally
        {
            if (training) model.train();
        }
    }

    /// <summary>As <see cref="Estimate(Distribution, Func{Tensor, Tensor}, long, long)"/> with the target's (possibly unnormalised) log-density.</summary>
    /// <param name="model">The proposal.</param>
    /// <param name="target">The target; for a normalised one, <c>log Z</c> should come out near 0.</param>
    /// <param name="samples">Number of draws; positive.</param>
    /// <param name="seed">Seed of the draws.</param>
    public static ImportanceEstimate Estimate(Distribution model, ITarget target, long samples = 100_000, long seed = 1)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(model);
        if (target.Features != model.EventSize || model.EventShape.Count != 1)
            throw new ArgumentException($"The target has {target.Features} features but the model's event shape is {Guard.Shape(model.EventShape)}.", nameof(target));
        return Estimate(model, target.LogDensity, samples, seed);
    }

    private static double LogSumExp(IReadOnlyList<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (var v in values) max = Math.Max(max, v);
        if (double.IsNegativeInfinity(max) || double.IsNaN(max)) return max;
        double sum = 0;
        foreach (var v in values) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
