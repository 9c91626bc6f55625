using System;
using NormalizingFlows.Internal;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Diagnostics;

/// <summary>
/// Measures of how well a model matches data or a target. All run without gradients, in chunks so that
/// large evaluations stay within memory, and return plain doubles.
/// </summary>
/// <remarks>Every measure evaluates the model inside <see cref="ExactEvaluation.Enter"/>: a model whose log-density is a
/// stochastic estimate (<see cref="Distribution.LogProbIsEstimate"/>, e.g. a residual flow) is measured with exact log-dets
/// wherever that is affordable. Where it is not, the plain measures return one evaluation of the estimate; the
/// <c>...Estimate</c> variants (<see cref="NegativeLogLikelihoodEstimate"/>, <see cref="KlDivergenceEstimate"/>) repeat it
/// with fresh probes and return the mean with its standard error, and say whether the value is exact.</remarks>
public static class Metrics
{
    /// <summary>Rows evaluated per chunk.</summary>
    public const long ChunkSize = 65_536;

    /// <summary>Evaluations the <c>...Estimate</c> measures average when the log-density is an estimate.</summary>
    public const int DefaultRepeats = 5;

    /// <summary>Mean negative log-likelihood <c>-mean(log q(x))</c> of <paramref name="data"/> under <paramref name="model"/>, in nats.</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">Rows <c>[batch, ...EventShape]</c>, of the model's dtype on its device. A row holding an infinity has
    /// density zero (the result is <c>+inf</c>); a row holding a NaN makes it NaN (see <see cref="Distribution.LogProb"/>).</param>
    /// <exception cref="ArgumentException">The shape of <paramref name="data"/> is wrong, or it is not of the model's dtype on its device.</exception>
    public static double NegativeLogLikelihood(Distribution model, Tensor data)
    {
        ArgumentNullException.ThrowIfNull(model);
        Guard.Shaped(data, model.EventShape, nameof(data));
        model.CheckPlacement(data, nameof(data), null);
        using var exact = ExactEvaluation.Enter(model);
        return NegativeLogLikelihoodCore(model, data);
    }

    /// <summary>As <see cref="NegativeLogLikelihood"/>, with its standard error where the model's log-density stays an estimate
    /// (see <see cref="MetricEstimate"/>).</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">Rows <c>[batch, ...EventShape]</c>, of the model's dtype on its device.</param>
    /// <param name="repeats">Evaluations to average when the log-density is an estimate; at least 2.</param>
    /// <exception cref="ArgumentException">The shape of <paramref name="data"/> is wrong, or it is not of the model's dtype on its device.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="repeats"/> is below 2.</exception>
    public static MetricEstimate NegativeLogLikelihoodEstimate(Distribution model, Tensor data, int repeats = DefaultRepeats)
    {
        ArgumentNullException.ThrowIfNull(model);
        Guard.Shaped(data, model.EventShape, nameof(data));
        model.CheckPlacement(data, nameof(data), null);
        return Repeated(model, repeats, () => NegativeLogLikelihoodCore(model, data));
    }

    private static double NegativeLogLikelihoodCore(Distribution model, Tensor data)
    {
        double sum = 0;
        ForEachChunk(data, chunk =>
        {
            using var scope = torch.NewDisposeScope();
            sum += TensorValues.ToDouble(model.LogProbOfRows(chunk, null).sum());
        });
        return -sum / data.size(0);
    }

    /// <summary>Test negative log-likelihood on <paramref name="samples"/> fresh samples of <paramref name="target"/> (exact where
    /// <see cref="ExactEvaluation"/> affords it, as <see cref="NegativeLogLikelihood"/>).</summary>
    public static double TestNegativeLogLikelihood(ITarget target, Distribution model, long samples = 100_000, long seed = 1)
    {
        ArgumentNullException.ThrowIfNull(target);
        Guard.Positive(samples, nameof(samples));
        var (dtype, device) = ModuleTensors.Placement(model);
        using var generator = new Generator((ulong)seed);
        using var x = target.Sample(samples, generator, dtype, device);
        return NegativeLogLikelihood(model, x);
    }

    /// <summary>As <see cref="TestNegativeLogLikelihood"/>, with its standard error where the model's log-density stays an
    /// estimate (the same samples in every repeat; see <see cref="MetricEstimate"/>).</summary>
    /// <param name="target">The target to sample.</param>
    /// <param name="model">The model.</param>
    /// <param name="samples">Number of fresh samples; positive.</param>
    /// <param name="seed">Seed of the samples.</param>
    /// <param name="repeats">Evaluations to average when the log-density is an estimate; at least 2.</param>
    public static MetricEstimate TestNegativeLogLikelihoodEstimate(ITarget target, Distribution model, long samples = 100_000, long seed = 1, int repeats = DefaultRepeats)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(model);
        Guard.Positive(samples, nameof(samples));
        var (dtype, device) = ModuleTensors.Placement(model);
        using var generator = new Generator((ulong)seed);
        using var x = target.Sample(samples, generator, dtype, device);
        return NegativeLogLikelihoodEstimate(model, x, repeats);
    }

    /// <summary>
    /// <c>KL(p || q) = E_p[log p(x) - log q(x)]</c> in nats, estimated on <paramref name="samples"/> fresh samples
    /// of the target <c>p</c> (whose log-density must be normalised).
    /// </summary>
    public static double KlDivergence(ITarget target, Distribution model, long samples = 100_000, long seed = 1)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(model);
        Guard.Positive(samples, nameof(samples));
        if (!target.IsNormalized)
            throw new ArgumentException($"KL(p||q) needs a normalised target log-density; {target.Name}'s is unnormalised.", nameof(target));
        using var exact = ExactEvaluation.Enter(model);
        return KlDivergenceCore(target, model, samples, seed);
    }

    /// <summary>As <see cref="KlDivergence"/>, with its standard error where the model's log-density stays an estimate (the same
    /// target samples in every repeat, so the error is the estimator's, not the sampling's; see <see cref="MetricEstimate"/>).</summary>
    /// <param name="target">The target <c>p</c>; its log-density must be normalised.</param>
    /// <param name="model">The model <c>q</c>.</param>
    /// <param name="samples">Number of fresh target samples; positive.</param>
    /// <param name="seed">Seed of the samples.</param>
    /// <param name="repeats">Evaluations to average when the log-density is an estimate; at least 2.</param>
    public static MetricEstimate KlDivergenceEstimate(ITarget target, Distribution model, long samples = 100_000, long seed = 1, int repeats = DefaultRepeats)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(model);
        Guard.Positive(samples, nameof(samples));
        if (!target.IsNormalized)
            throw new ArgumentException($"KL(p||q) needs a normalised target log-density; {target.Name}'s is unnormalised.", nameof(target));
        return Repeated(model, repeats, () => KlDivergenceCore(target, model, samples, seed));
    }

    private static double KlDivergenceCore(ITarget target, Distribution model, long samples, long seed)
    {
        var (dtype, device) = ModuleTensors.Placement(model);
        using var generator = new Generator((ulong)seed);
        using var x = target.Sample(samples, generator, dtype, device);
        double sum = 0;
        ForEachChunk(x, chunk =>
        {
            using var scope = torch.NewDisposeScope();
            var logP = target.LogDensity(chunk).to(ScalarType.Float64);
            var logQ = model.LogProbCore(chunk, null).to(ScalarType.Float64);
            sum += TensorValues.ToDouble(logP.sub(logQ).sum());
        });
        return sum / samples;
    }

    /// <summary>One evaluation inside an exact scope when that makes the model exact; otherwise <paramref name="repeats"/>
    /// evaluations (each draws fresh probes from the model's estimator generators) and their mean and standard error.</summary>
    private static MetricEstimate Repeated(Distribution model, int repeats, Func<double> evaluate)
    {
        if (repeats < 2)
            throw new ArgumentOutOfRangeException(nameof(repeats), repeats, $"repeats must be at least 2 to give a standard error; got {repeats}.");
        using var exact = ExactEvaluation.Enter(model);
        if (exact.IsExact) return new MetricEstimate(evaluate(), 0, true, 1);
        var values = new double[repeats];
        for (int i = 0; i < repeats; i++) values[i] = evaluate();
        return MetricEstimate.FromRepeats(values);
    }

    /// <summary>Converts a mean negative log-likelihood in nats per example into bits per dimension:
    /// <c>nll / (dimensions ln 2)</c>. (For dequantised discrete data, see the image tools, which add the quantisation term.)</summary>
    /// <param name="negativeLogLikelihood">Mean negative log-likelihood per example, in nats.</param>
    /// <param name="dimensions">Number of dimensions of one example; positive.</param>
    public static double BitsPerDimension(double negativeLogLikelihood, long dimensions)
    {
        Guard.Positive(dimensions, nameof(dimensions));
        return negativeLogLikelihood / (dimensions * Math.Log(2));
    }

    /// <summary>
    /// The integral of <c>q</c> over the rectangle <c>[xMin, xMax] x [yMin, yMax]</c> by the midpoint rule on a
    /// <paramref name="steps"/> x <paramref name="steps"/> grid (2-D models only). Close to 1 when the rectangle holds
    /// almost all of q's mass.
    /// </summary>
    public static double GridIntegral(Distribution model, double xMin, double xMax, double yMin, double yMax, int steps = 400)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.EventShape.Count != 1 || model.EventShape[0] != 2)
            throw new ArgumentException($"GridIntegral needs a 2-D model; this one has event shape {Guard.Shape(model.EventShape)}.", nameof(model));
        if (!(xMax > xMin)) throw new ArgumentException($"xMax ({xMax}) must exceed xMin ({xMin}).", nameof(xMax));
        if (!(yMax > yMin)) throw new ArgumentException($"yMax ({yMax}) must exceed yMin ({yMin}).", nameof(yMax));
        Guard.Positive(steps, nameof(steps));
        using var scope = torch.NewDisposeScope();
        using var exact = ExactEvaluation.Enter(model);
        var (dtype, device) = ModuleTensors.Placement(model);
        using var grid = Grid(xMin, xMax, yMin, yMax, steps, dtype, device);
        double sum = 0;
        ForEachChunk(grid, chunk =>
        {
            using var inner = torch.NewDisposeScope();
            sum += TensorValues.ToDouble(model.LogProbCore(chunk, null).to(ScalarType.Float64).exp().sum());
        });
        return sum * (xMax - xMin) / steps * (yMax - yMin) / steps;
    }

    /// <summary>Midpoints of a <paramref name="steps"/> x <paramref name="steps"/> grid as rows <c>[steps * steps, 2]</c>, x varying fastest.</summary>
    public static Tensor Grid(double xMin, double xMax, double yMin, double yMax, int steps, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        Guard.Positive(steps, nameof(steps));
        using var scope = torch.NewDisposeScope();
        double dx = (xMax - xMin) / steps, dy = (yMax - yMin) / steps;
        var xs = torch.linspace(xMin + dx / 2, xMax - dx / 2, steps, dtype: dtype, device: device);
        var ys = torch.linspace(yMin + dy / 2, yMax - dy / 2, steps, dtype: dtype, device: device);
        var mesh = torch.meshgrid(new[] { ys, xs }, indexing: "ij");
        return scope.MoveToOuter(torch.stack(new[] { mesh[1].reshape(-1), mesh[0].reshape(-1) }, 1));
    }

    private static void ForEachChunk(Tensor x, Action<Tensor> action)
    {
        // Inference mode: nothing here feeds autograd, and it skips autograd's bookkeeping entirely.
        using var inference = torch.inference_mode();
        long rows = x.size(0);
        for (long start = 0; start < rows; start += ChunkSize)
        {
            using var chunk = x.narrow(0, start, Math.Min(ChunkSize, rows - start));
            action(chunk);
        }
    }
}
