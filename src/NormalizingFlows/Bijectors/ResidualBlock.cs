using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// An invertible residual block (i-ResNet): <c>g</c> is an MLP whose linear layers are spectrally normalised to a
/// Lipschitz constant at most <c>c &lt; 1</c> and whose activations are 1-Lipschitz, so <c>Lip(g) &lt; 1</c> and
/// <c>x + g(x)</c> is invertible.
/// Forward: <c>y = x + g(x)</c>; log-det: <c>log det(I + J_g(x)) = sum_{k&gt;=1} (-1)^(k+1) tr(J_g(x)^k) / k</c>,
/// truncated after <see cref="SeriesTerms"/> terms with Hutchinson trace estimates (<see cref="ResidualLogDet.PowerSeries"/>,
/// stochastic and biased by the truncation) or computed exactly from the full Jacobian (<see cref="ResidualLogDet.Exact"/>).
/// Inverse: <c>x</c> = the fixed point of <c>x = y - g(x)</c>, by Banach iteration from <c>x = y</c> until no entry moves by
/// more than <see cref="InverseTolerance"/> (relative to <c>1 + |x|</c>); log-det: <c>-log det(I + J_g(x))</c> at that point,
/// computed the same way.
/// Behrmann et al., "Invertible residual networks" (2019); Chen et al., "Residual flows for invertible generative modeling" (2019).
/// </summary>
/// <remarks>
/// <para>The spectral norms come from power iteration with stored vectors: in training mode each call runs
/// <see cref="TrainingPowerIterations"/> steps and keeps the new vectors; in evaluation mode each call runs
/// <see cref="EvaluationPowerIterations"/> steps from the stored vectors without changing them, so that evaluation is
/// deterministic and Forward and Inverse use the same weights.</para>
/// <para>Both log-det modes are computed from the network's own chain rule (no autograd calls inside), so they are
/// differentiable, work under <c>torch.no_grad()</c>, and the power series costs <c>n</c> vector-Jacobian products.
/// The Hutchinson probes come from the block's own generator (seeded in the constructor; never the global one).</para>
/// <para>Gradients through the inverse: the fixed point is found without gradients, then one correction step
/// <c>x = x* + (I + J_g(x*))^-1 (y - x* - g(x*))</c> carries the implicit-function gradient: exact in
/// <see cref="ResidualLogDet.Exact"/> mode (a linear solve with the full Jacobian), a Neumann series truncated after
/// <see cref="SeriesTerms"/> terms in <see cref="ResidualLogDet.PowerSeries"/> mode.</para>
/// <para>For maximum-likelihood training the explicit direction should map data to base, as in the papers:
/// <see cref="Flows.ResidualFlow"/> wraps each block in <see cref="Invert"/>, so log-densities use <c>x + g(x)</c>
/// and sampling uses the fixed-point iteration.</para>
/// </remarks>
public sealed partial class ResidualBlock : Bijector
{
    private const double LipSwishScale = 1.1;

    private readonly ModuleList<SpectralNormLinear> layers;
    private readonly Generator probes;
    private readonly double coefficient;
    private ResidualLogDet logDet;
    private int seriesTerms = 8;
    private int trainingPowerIterations = 1;
    private int evaluationPowerIterations = 20;
    private double inverseTolerance = 1e-6;
    private int inverseMaxIterations = 1000;
    private int exactEvaluations;

    /// <summary>Creates a residual block <c>y = x + g(x)</c>.</summary>
    /// <param name="features">Number of features <c>D</c>.</param>
    /// <param name="hiddenFeatures">Hidden widths of <c>g</c> (at least one layer), e.g. <c>[64, 64]</c>.</param>
    /// <param name="lipschitzCoefficient">Bound <c>c</c> on each linear layer's spectral norm, in <c>(0, 1)</c>; <c>Lip(g) &lt;= c^layers</c>.</param>
    /// <param name="activation">Hidden nonlinearity; must be 1-Lipschitz: <see cref="Activation.Elu"/> (default, as i-ResNet),
    /// <see cref="Activation.Tanh"/>, <see cref="Activation.Relu"/>, <see cref="Activation.LeakyRelu"/>, or <see cref="Activation.Silu"/>,
    /// which is used as LipSwish, <c>silu(x) / 1.1</c> (Chen et al. 2019).</param>
    /// <param name="logDet">How the log-determinant is computed.</param>
    /// <param name="generator">Generator for the initial weights; null uses TorchSharp's default generator.</param>
    /// <param name="estimatorSeed">Seed of the block's own generator for the Hutchinson probes.</param>
    public ResidualBlock(int features, IReadOnlyList<int> hiddenFeatures, double lipschitzCoefficient = 0.9,
        Activation activation = Activation.Elu, ResidualLogDet logDet = ResidualLogDet.PowerSeries, Generator? generator = null, long estimatorSeed = 0)
        : base(nameof(ResidualBlock), new[] { (long)CheckedFeatures(features) })
    {
        ArgumentNullException.ThrowIfNull(hiddenFeatures);
        if (hiddenFeatures.Count == 0)
            throw new ArgumentException("A residual block needs at least one hidden layer; hiddenFeatures is empty.", nameof(hiddenFeatures));
        Guard.HiddenWidths(hiddenFeatures, nameof(hiddenFeatures));
        if (!(lipschitzCoefficient > 0 && lipschitzCoefficient < 1))
            throw new ArgumentOutOfRangeException(nameof(lipschitzCoefficient), lipschitzCoefficient,
                $"lipschitzCoefficient must be in (0, 1) for the block to be invertible; got {lipschitzCoefficient}.");
        if (activation is not (Activation.Elu or Activation.Tanh or Activation.Relu or Activation.LeakyRelu or Activation.Silu))
            throw new ArgumentException(
                $"The activation of a residual block must be 1-Lipschitz (Elu, Tanh, Relu, LeakyRelu, or Silu used as LipSwish); got {activation}.", nameof(activation));
        if (!Enum.IsDefined(logDet)) throw new ArgumentOutOfRangeException(nameof(logDet), logDet, $"Unknown log-det mode {logDet}.");
        coefficient = lipschitzCoefficient;
        Activation = activation;
        this.logDet = logDet;
        HiddenFeatures = hiddenFeatures.ToArray();
        var widths = new List<int> { features };
        widths.AddRange(hiddenFeatures);
        widths.Add(features);
        var linears = new SpectralNormLinear[widths.Count - 1];
        for (int i = 0; i < linears.Length; i++) linears[i] = new SpectralNormLinear(widths[i], widths[i + 1], generator);
        layers = nn.ModuleList(linears);
        probes = new Generator((ulong)estimatorSeed);
        EstimatorSeed = estimatorSeed;
        RegisterComponents();
    }

    /// <summary>The seed of the block's own generator for the Hutchinson probes, as given to the constructor.</summary>
    internal long EstimatorSeed { get; }

    /// <summary>Hidden widths of <c>g</c>.</summary>
    public IReadOnlyList<int> HiddenFeatures { get; }

    /// <summary>The hidden nonlinearity (<see cref="Activation.Silu"/> means LipSwish, <c>silu(x) / 1.1</c>).</summary>
    public Activation Activation { get; }

    /// <summary>Bound on each linear layer's spectral norm.</summary>
    public double LipschitzCoefficient => coefficient;

    /// <summary>How the log-determinant is computed (the mode that is saved with the model); switch to
    /// <see cref="ResidualLogDet.Exact"/> to evaluate a trained model in small dimensions, or evaluate inside
    /// <see cref="Diagnostics.ExactEvaluation.Enter"/>, which does so for the duration of the evaluation without changing this
    /// property.</summary>
    public ResidualLogDet LogDet
    {
        get => logDet;
        set => logDet = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"Unknown log-det mode {value}.");
    }

    /// <summary>The mode the block computes its log-determinant with now: <see cref="ResidualLogDet.Exact"/> while an
    /// <see cref="Diagnostics.ExactEvaluation"/> scope holds the block, otherwise <see cref="LogDet"/>.</summary>
    public ResidualLogDet EffectiveLogDet => Volatile.Read(ref exactEvaluations) > 0 ? ResidualLogDet.Exact : logDet;

    /// <inheritdoc />
    /// <remarks>True when <see cref="EffectiveLogDet"/> is <see cref="ResidualLogDet.PowerSeries"/>: the log-det is then a
    /// Hutchinson estimate (random, and biased by the series' truncation).</remarks>
    public override bool LogDetIsEstimate => EffectiveLogDet == ResidualLogDet.PowerSeries;

    /// <summary>Makes the block compute exact log-dets until a matching <see cref="EndExactEvaluation"/> (counted, so overlapping
    /// scopes on several threads nest: the block stays exact until the last one ends).</summary>
    internal void BeginExactEvaluation() => Interlocked.Increment(ref exactEvaluations);

    /// <summary>Ends one <see cref="BeginExactEvaluation"/>.</summary>
    internal void EndExactEvaluation() => Interlocked.Decrement(ref exactEvaluations);

    /// <summary>Terms of the power series (and of the Neumann series for the inverse's gradient); at least 1. Default 8.</summary>
    public int SeriesTerms
    {
        get => seriesTerms;
        set => seriesTerms = AtLeastOne(value, nameof(SeriesTerms));
    }

    /// <summary>Power-iteration steps per call in training mode (the vectors persist between calls); at least 1. Default 1.</summary>
    public int TrainingPowerIterations
    {
        get => trainingPowerIterations;
        set => trainingPowerIterations = AtLeastOne(value, nameof(TrainingPowerIterations));
    }

    /// <summary>Power-iteration steps per call in evaluation mode (from the stored vectors, which stay unchanged); at least 1. Default 20.</summary>
    public int EvaluationPowerIterations
    {
        get => evaluationPowerIterations;
        set => evaluationPowerIterations = AtLeastOne(value, nameof(EvaluationPowerIterations));
    }

    /// <summary>The fixed-point iteration stops when no entry moves by more than this times <c>1 + |x|</c>. Default 1e-6;
    /// values below a few machine epsilons of the data type are raised to that floor.</summary>
    public double InverseTolerance
    {
        get => inverseTolerance;
        set
        {
            Guard.Positive(value, nameof(InverseTolerance));
            inverseTolerance = value;
        }
    }

    /// <summary>Most fixed-point iterations before the inverse gives up with an error. Default 1000.</summary>
    public int InverseMaxIterations
    {
        get => inverseMaxIterations;
        set => inverseMaxIterations = AtLeastOne(value, nameof(InverseMaxIterations));
    }

    /// <summary>Sets the log-det mode of every <see cref="ResidualBlock"/> inside <paramref name="model"/> (e.g. a flow);
    /// returns how many blocks it changed.</summary>
    /// <param name="model">A module containing residual blocks, or a block itself.</param>
    /// <param name="mode">The new mode.</param>
    public static int SetLogDet(nn.Module model, ResidualLogDet mode)
    {
        ArgumentNullException.ThrowIfNull(model);
        int count = 0;
        foreach (var block in model.modules().Prepend(model).OfType<ResidualBlock>())
        {
            block.LogDet = mode;
            count++;
        }
        return count;
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        var mode = EffectiveLogDet;
        var weights = NormalizedWeights();
        var (gx, slopes) = Residual(x, weights);
        return (x.add(gx, Scalars.One), LogDetAt(weights, slopes, x, mode));
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The fixed-point iteration did not converge within <see cref="InverseMaxIterations"/>.</exception>
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        var mode = EffectiveLogDet;
        var weights = NormalizedWeights();
        Tensor fixedPoint;
        using (torch.no_grad())
        {
            fixedPoint = FixedPoint(y.detach(), weights.Select(w => w.detach()).ToArray());
        }
        // One correction step carries the implicit-function gradient: dx/dy = (I + J)^-1, dx/dtheta = -(I + J)^-1 dg/dtheta.
        var (gStar, slopesStar) = Residual(fixedPoint, weights);
        var residual = y.sub(fixedPoint).sub(gStar);
        var frozenWeights = weights.Select(w => w.detach()).ToArray();
        var frozenSlopes = slopesStar.Select(s => s.detach()).ToArray();
        Tensor correction;
        if (mode == ResidualLogDet.Exact)
        {
            var matrix = Jacobian(frozenWeights, frozenSlopes).add(torch.eye(EventShape[0], dtype: y.dtype, device: y.device), Scalars.One);
            correction = torch.linalg.solve(matrix, residual.unsqueeze(-1)).squeeze(-1);
        }
        else
        {
            // (I + J)^-1 r = sum_k (-J)^k r, truncated.
            correction = residual;
            var term = residual;
            for (int k = 1; k <= seriesTerms; k++)
            {
                term = JacobianVectorProduct(frozenWeights, frozenSlopes, term).neg();
                correction = correction.add(term, Scalars.One);
            }
        }
        var x = fixedPoint.add(correction, Scalars.One);
        var (_, slopes) = Residual(x, weights);
        return (x, LogDetAt(weights, slopes, x, mode).neg());
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) probes.Dispose();
        base.Dispose(disposing);
    }

    private Tensor[] NormalizedWeights()
    {
        bool update = training;
        int iterations = update ? trainingPowerIterations : evaluationPowerIterations;
        return layers.Select(l => l.NormalizedWeight(coefficient, iterations, update)).ToArray();
    }

    /// <summary><c>g(x)</c> and the activation's derivative at every hidden layer's pre-activation.</summary>
    private (Tensor Output, Tensor[] Slopes) Residual(Tensor x, Tensor[] weights)
    {
        var slopes = new Tensor[weights.Length - 1];
        var h = x;
        for (int i = 0; i < weights.Length - 1; i++)
        {
            var pre = nn.functional.linear(h, weights[i], layers[i].Bias);
            (h, slopes[i]) = Activate(pre);
        }
        return (nn.functional.linear(h, weights[^1], layers[weights.Length - 1].Bias), slopes);
    }

    private (Tensor Value, Tensor Slope) Activate(Tensor pre)
    {
        switch (Activation)
        {
            case Activation.Elu:
                // elu'(x) = 1 for x > 0 and exp(x) = elu(x) + 1 otherwise.
                var e = StableMath.Elu(pre);
                return (e, e.add(Scalars.Of(1.0), Scalars.One).clamp_max(Scalars.Of(1.0)));
            case Activation.Tanh:
                var t = pre.tanh();
                return (t, t.pow(Scalars.Two).neg().add(Scalars.Of(1.0), Scalars.One));
            case Activation.Relu:
                return (nn.functional.relu(pre), pre.gt(Scalars.Zero).to(pre.dtype));
            case Activation.LeakyRelu:
                return (StableMath.LeakyRelu(pre, Scalars.Of(Activations.LeakySlope)), torch.where(pre.gt(Scalars.Zero), torch.ones_like(pre), torch.full_like(pre, Scalars.Of(Activations.LeakySlope))));
            default: // Silu as LipSwish
                var s = pre.sigmoid();
                return (pre.mul(s).div(Scalars.Of(LipSwishScale)),
                    s.mul(pre.mul(s.neg().add(Scalars.Of(1.0), Scalars.One)).add(Scalars.Of(1.0), Scalars.One)).div(Scalars.Of(LipSwishScale)));
        }
    }

    /// <summary>Row vectors times the Jacobian: <c>w^T J_g</c> for each row, by the chain rule backwards.</summary>
    private static Tensor VectorJacobianProduct(Tensor[] weights, Tensor[] slopes, Tensor w)
    {
        var result = w.matmul(weights[^1]);
        for (int i = weights.Length - 2; i >= 0; i--) result = result.mul(slopes[i]).matmul(weights[i]);
        return result;
    }

    /// <summary>The Jacobian times column vectors: <c>J_g r</c> for each row, by the chain rule forwards.</summary>
    private static Tensor JacobianVectorProduct(Tensor[] weights, Tensor[] slopes, Tensor r)
    {
        var result = r;
        for (int i = 0; i < weights.Length - 1; i++) result = result.matmul(weights[i].t()).mul(slopes[i]);
        return result.matmul(weights[^1].t());
    }

    /// <summary>The full Jacobian <c>J_g</c> per row, <c>[batch, D, D]</c>.</summary>
    private static Tensor Jacobian(Tensor[] weights, Tensor[] slopes)
    {
        var product = weights[0].unsqueeze(0).mul(slopes[0].unsqueeze(-1));          // [batch, H1, D]
        for (int i = 1; i < weights.Length - 1; i++) product = weights[i].matmul(product).mul(slopes[i].unsqueeze(-1));
        return weights[^1].matmul(product);
    }

    private Tensor LogDetAt(Tensor[] weights, Tensor[] slopes, Tensor x, ResidualLogDet mode)
    {
        long features = EventShape[0];
        if (mode == ResidualLogDet.Exact)
        {
            var jacobian = Jacobian(weights, slopes).add(torch.eye(features, dtype: x.dtype, device: x.device), Scalars.One);
            return torch.linalg.slogdet(jacobian).Item2;
        }
        // Hutchinson: tr(J^k) ~ v^T J^k v with a Rademacher probe per row.
        var v = Draw.Uniform(new[] { x.size(0), features }, x.dtype, x.device, probes).lt(Scalars.Of(0.5)).to(x.dtype).mul(Scalars.Two).sub(Scalars.One);
        var w = v;
        Tensor? sum = null;
        for (int k = 1; k <= seriesTerms; k++)
        {
            w = VectorJacobianProduct(weights, slopes, w);
            using var termWeight = ((k % 2 == 1 ? 1.0 : -1.0) / k).ToScalar();
            var term = w.mul(v).sum(1).mul(termWeight);
            sum = sum is null ? term : sum.add(term, Scalars.One);
        }
        return sum!;
    }

    private Tensor FixedPoint(Tensor y, Tensor[] weights)
    {
        double floor = 8 * (y.dtype == ScalarType.Float64 ? 2.220446049250313e-16 : 1.1920929e-07);
        double tolerance = Math.Max(inverseTolerance, floor);
        using var toleranceScalar = tolerance.ToScalar();
        var finiteRows = y.isfinite().all(1, keepdim: true);
        var x = y;
        double largest = double.NaN;
        for (int i = 0; i < inverseMaxIterations; i++)
        {
            using var step = torch.NewDisposeScope();
            var next = y.sub(Residual(x, weights).Output);
            var change = next.sub(x).abs();
            var allowed = next.abs().add(Scalars.Of(1.0), Scalars.One).mul(toleranceScalar);
            bool done = change.le(allowed).logical_or(finiteRows.logical_not()).all().item<bool>();
            var previous = x;
            x = step.MoveToOuter(next);
            if (i > 0) previous.Dispose();                            // an earlier iterate (never y itself)
            if (done) return x;
            largest = TensorValues.ToDouble(change.masked_fill(finiteRows.logical_not(), Scalars.Zero).max());
        }
        throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
            "ResidualBlock's inverse did not converge: after {0} fixed-point iterations an entry still moved by {1:E2} (tolerance {2:E1} relative to 1 + |x|). " +
            "Raise InverseMaxIterations or InverseTolerance, or use a smaller LipschitzCoefficient (now {3}).",
            inverseMaxIterations, largest, tolerance, coefficient));
    }

    private static int AtLeastOne(int value, string name) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1; got {value}.");

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }
}
