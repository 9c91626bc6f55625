using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Internal;
using NormalizingFlows.Ode;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// A continuous normalising flow (neural ODE, FFJORD): <c>dx/dt = v(x, t[, context])</c> on <c>t in [0, 1]</c>, with <c>v</c> an
/// MLP that takes the state, the time and the context.
/// Forward: <c>y = x(1)</c> with <c>x(0) = x</c>; log-det: <c>log|det dy/dx| = integral_0^1 div v(x(t), t) dt</c>, integrated
/// beside the state (the instantaneous change of variables).
/// Inverse: <c>x = x(0)</c> with <c>x(1) = y</c>, integrating backwards; log-det: <c>-integral_0^1 div v dt</c> along that path.
/// The divergence is exact (<see cref="DivergenceEstimator.Exact"/>, one backward pass per feature; the default up to
/// <see cref="DefaultExactFeatures"/> features) or Hutchinson's estimate (one backward pass, random: <see cref="LogDetIsEstimate"/>).
/// Chen et al., "Neural ordinary differential equations" (2018); Grathwohl et al., "FFJORD" (2019).
/// </summary>
/// <remarks>
/// <para>The last layer of the velocity network starts at zero, so a fresh flow is the identity (zero log-det).</para>
/// <para>Forward and inverse agree to the solver's tolerance, not to rounding: with the default adaptive
/// <see cref="DormandPrince"/> at <c>1e-5</c> a round trip is good to about <c>1e-4</c>; tighten
/// <see cref="RelativeTolerance"/> and <see cref="AbsoluteTolerance"/> (in float64) for more.</para>
/// <para>Gradients flow through the solver's steps (discretise-then-optimise), which is what maximum-likelihood training
/// through <see cref="Training.Fit"/> uses; flow matching (<see cref="Training.Fit.FlowMatching(Flow, Tensor, Training.FitOptions?, Training.FlowMatchingOptions?, IProgress{Training.TrainingProgress}?, CancellationToken)"/>)
/// trains the velocity without solving at all.</para>
/// <para>The Hutchinson probes come from the flow's own generator (seeded by <c>estimatorSeed</c>), one probe per row held for
/// the whole integration. Inside <see cref="Diagnostics.ExactEvaluation.Enter"/> the divergence is exact whatever
/// <see cref="Divergence"/> says.</para>
/// </remarks>
public sealed partial class ContinuousFlow : Bijector
{
    /// <summary>Up to this many features the default divergence is exact; above it, Hutchinson's estimate with Rademacher probes.</summary>
    public const int DefaultExactFeatures = 10;

    /// <summary>Cap on <see cref="MaxSteps"/> and <see cref="FixedSteps"/>.</summary>
    public const int StepLimit = 1_000_000;

    private readonly Mlp velocity;
    private readonly Generator probes;
    private readonly int features;
    private DivergenceEstimator divergence;
    private OdeMethod method = OdeMethod.DormandPrince;
    private double relativeTolerance = 1e-5;
    private double absoluteTolerance = 1e-5;
    private int maxSteps = 10_000;
    private int fixedSteps = 20;
    private int exactEvaluations;
    private int lastEvaluations;
    private int lastSteps;

    /// <summary>Creates a continuous flow on <c>[features]</c> events.</summary>
    /// <param name="features">Number of features <c>D</c>.</param>
    /// <param name="hiddenFeatures">Hidden widths of the velocity network, e.g. <c>[64, 64]</c>.</param>
    /// <param name="contextFeatures">Width of the context the velocity takes; 0 for none.</param>
    /// <param name="activation">Hidden nonlinearity; a smooth one (the default <see cref="Activation.Tanh"/>, or
    /// <see cref="Activation.Silu"/>, <see cref="Activation.Elu"/>) keeps the adaptive solver's steps large.</param>
    /// <param name="divergence">How the divergence is computed; null for exact up to <see cref="DefaultExactFeatures"/>
    /// features and <see cref="DivergenceEstimator.HutchinsonRademacher"/> above.</param>
    /// <param name="generator">Generator for the initial weights; null uses TorchSharp's default generator.</param>
    /// <param name="estimatorSeed">Seed of the flow's own generator for the Hutchinson probes.</param>
    public ContinuousFlow(int features, IReadOnlyList<int> hiddenFeatures, int contextFeatures = 0, Activation activation = Activation.Tanh,
        DivergenceEstimator? divergence = null, Generator? generator = null, long estimatorSeed = 0)
        : base(nameof(ContinuousFlow), new[] { (long)CheckedFeatures(features) }, contextFeatures)
    {
        Guard.HiddenWidths(hiddenFeatures, nameof(hiddenFeatures));
        Guard.Defined(activation, nameof(activation));
        var mode = divergence ?? (features <= DefaultExactFeatures ? DivergenceEstimator.Exact : DivergenceEstimator.HutchinsonRademacher);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(divergence), mode, $"Unknown divergence estimator {mode}.");
        this.features = features;
        this.divergence = mode;
        Activation = activation;
        HiddenFeatures = hiddenFeatures.ToArray();
        EstimatorSeed = estimatorSeed;
        velocity = new Mlp(features + 1, features, hiddenFeatures, contextFeatures, activation, zeroInitialOutput: true, generator);
        probes = new Generator((ulong)estimatorSeed);
        RegisterComponents();
    }

    /// <summary>Hidden widths of the velocity network.</summary>
    public IReadOnlyList<int> HiddenFeatures { get; }

    /// <summary>The hidden nonlinearity of the velocity network.</summary>
    public Activation Activation { get; }

    /// <summary>The seed of the flow's own generator for the Hutchinson probes.</summary>
    public long EstimatorSeed { get; }

    /// <summary>The velocity network: input <c>[x, t]</c> (<c>features + 1</c> columns) and the context, output <c>[features]</c>.</summary>
    public Mlp Network => velocity;

    /// <summary>How the divergence is computed (the mode saved with the model).</summary>
    public DivergenceEstimator Divergence
    {
        get => divergence;
        set => divergence = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"Unknown divergence estimator {value}.");
    }

    /// <summary>The mode used now: <see cref="DivergenceEstimator.Exact"/> while an <see cref="Diagnostics.ExactEvaluation"/> scope
    /// holds the flow, otherwise <see cref="Divergence"/>.</summary>
    public DivergenceEstimator EffectiveDivergence => Volatile.Read(ref exactEvaluations) > 0 ? DivergenceEstimator.Exact : divergence;

    /// <inheritdoc />
    /// <remarks>True when <see cref="EffectiveDivergence"/> is a Hutchinson estimate.</remarks>
    public override bool LogDetIsEstimate => EffectiveDivergence != DivergenceEstimator.Exact;

    /// <summary>The solver. Default <see cref="OdeMethod.DormandPrince"/>.</summary>
    public OdeMethod Method
    {
        get => method;
        set => method = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"Unknown ODE method {value}.");
    }

    /// <summary>Relative tolerance of the adaptive solver, in (0, 1). Default 1e-5.</summary>
    public double RelativeTolerance
    {
        get => relativeTolerance;
        set => relativeTolerance = value is > 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(RelativeTolerance), value, $"RelativeTolerance must be in (0, 1); got {value}.");
    }

    /// <summary>Absolute tolerance of the adaptive solver, in (0, 1). Default 1e-5.</summary>
    public double AbsoluteTolerance
    {
        get => absoluteTolerance;
        set => absoluteTolerance = value is > 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(AbsoluteTolerance), value, $"AbsoluteTolerance must be in (0, 1); got {value}.");
    }

    /// <summary>Cap on the adaptive solver's steps per integration (1 to <see cref="StepLimit"/>); default 10 000.
    /// Reaching it throws <see cref="OdeStepLimitException"/>.</summary>
    public int MaxSteps
    {
        get => maxSteps;
        set => maxSteps = value is >= 1 and <= StepLimit ? value : throw new ArgumentOutOfRangeException(nameof(MaxSteps), value, $"MaxSteps must be from 1 to {StepLimit}; got {value}.");
    }

    /// <summary>Steps of the fixed-step solvers (1 to <see cref="StepLimit"/>); default 20.</summary>
    public int FixedSteps
    {
        get => fixedSteps;
        set => fixedSteps = value is >= 1 and <= StepLimit ? value : throw new ArgumentOutOfRangeException(nameof(FixedSteps), value, $"FixedSteps must be from 1 to {StepLimit}; got {value}.");
    }

    /// <summary>Velocity evaluations of the last integration this flow finished (any thread), whatever the solver
    /// (each costs one network pass plus the divergence's backward passes).</summary>
    public int LastFunctionEvaluations => Volatile.Read(ref lastEvaluations);

    /// <summary>Accepted steps of the last integration this flow finished (any thread).</summary>
    public int LastSteps => Volatile.Read(ref lastSteps);

    /// <summary>The solver the flow's settings describe.</summary>
    public OdeSolver CreateSolver() => method switch
    {
        OdeMethod.RungeKutta4 => new RungeKutta4(fixedSteps),
        OdeMethod.Euler => new Euler(fixedSteps),
        _ => new DormandPrince(relativeTolerance, absoluteTolerance, maxSteps),
    };

    /// <summary>The velocity <c>v(x, t[, context])</c> at one time per row.</summary>
    /// <param name="x">States <c>[batch, features]</c>.</param>
    /// <param name="time">Times <c>[batch]</c>.</param>
    /// <param name="context">Context <c>[batch, ContextFeatures]</c>, or null when the flow takes none.</param>
    /// <returns>The velocities <c>[batch, features]</c>.</returns>
    /// <exception cref="ArgumentException">A shape, dtype or device is wrong.</exception>
    public Tensor Velocity(Tensor x, Tensor time, Tensor? context = null)
    {
        Guard.Shaped(x, EventShape, nameof(x));
        ArgumentNullException.ThrowIfNull(time);
        if (time.dim() != 1 || time.size(0) != x.size(0))
            throw new ArgumentException($"Expected time with shape [{x.size(0)}]; got {Guard.Shape(time.shape)}.", nameof(time));
        Guard.Context(context, ContextFeatures, x.size(0), nameof(context));
        CheckPlacement(x, nameof(x), context);
        CheckPlacement(time, nameof(time), null);
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(VelocityCore(x, time.unsqueeze(1), context));
    }

    /// <summary>Moves points along the flow without the divergence (no log-det): <c>Forward</c>'s output (base to data)
    /// or, with <paramref name="inverse"/>, <c>Inverse</c>'s, at one network pass per function evaluation instead of one
    /// plus a backward pass per feature. For sampling: <c>flow.Transport(z)</c> with <c>z</c> base draws.</summary>
    /// <param name="x">Points <c>[batch, features]</c>.</param>
    /// <param name="context">Context <c>[batch, ContextFeatures]</c>, or null when the flow takes none.</param>
    /// <param name="inverse">Integrate from 1 to 0 (data to base) instead of 0 to 1.</param>
    /// <returns>The moved points (the caller owns them).</returns>
    /// <exception cref="ArgumentException">A shape, dtype or device is wrong.</exception>
    /// <exception cref="OdeStepLimitException">The adaptive solver reached <see cref="MaxSteps"/>.</exception>
    public Tensor Transport(Tensor x, Tensor? context = null, bool inverse = false)
    {
        Guard.Shaped(x, EventShape, nameof(x));
        Guard.Context(context, ContextFeatures, x.size(0), nameof(context));
        CheckPlacement(x, nameof(x), context);
        using var scope = torch.NewDisposeScope();
        var solution = CreateSolver().Solve((t, state) =>
        {
            using var time = t.ToScalar();
            return VelocityCore(state, torch.full(new[] { state.size(0), 1L }, time, dtype: state.dtype, device: state.device), context);
        }, x, inverse ? 1 : 0, inverse ? 0 : 1);
        Interlocked.Exchange(ref lastEvaluations, solution.Evaluations);
        Interlocked.Exchange(ref lastSteps, solution.AcceptedSteps);
        return scope.MoveToOuter(solution.State);
    }

    /// <summary>The velocity for states <c>[batch, features]</c> and times <c>[batch, 1]</c>, without checks.</summary>
    internal Tensor VelocityCore(Tensor x, Tensor timeColumn, Tensor? context) =>
        velocity.forward(torch.cat(new[] { x, timeColumn }, 1), context);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) => Integrate(x, context, 0, 1);

    /// <inheritdoc />
    /// <exception cref="OdeStepLimitException">The adaptive solver reached <see cref="MaxSteps"/>.</exception>
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) => Integrate(y, context, 1, 0);

    /// <summary>Makes the flow compute exact divergences until a matching <see cref="EndExactEvaluation"/> (counted).</summary>
    internal void BeginExactEvaluation() => Interlocked.Increment(ref exactEvaluations);

    /// <summary>Ends one <see cref="BeginExactEvaluation"/>.</summary>
    internal void EndExactEvaluation() => Interlocked.Decrement(ref exactEvaluations);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) probes.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Integrates the state and the divergence from <paramref name="t0"/> to <paramref name="t1"/>: the end state and
    /// <c>integral_t0^t1 div v dt</c> (the log-det of that direction).</summary>
    private (Tensor Output, Tensor LogAbsDet) Integrate(Tensor x, Tensor? context, double t0, double t1)
    {
        var mode = EffectiveDivergence;
        bool createGraph = torch.is_grad_enabled();
        Tensor? probe = mode switch
        {
            DivergenceEstimator.HutchinsonGaussian => Draw.Normal(new[] { x.size(0), (long)features }, x.dtype, x.device, probes),
            DivergenceEstimator.HutchinsonRademacher => Draw.Uniform(new[] { x.size(0), (long)features }, x.dtype, x.device, probes)
                .lt(Scalars.Of(0.5)).to(x.dtype).mul(Scalars.Two).sub(Scalars.One),
            _ => null,
        };
        var start = torch.cat(new[] { x, torch.zeros(new[] { x.size(0), 1L }, dtype: x.dtype, device: x.device) }, 1);
        var solution = CreateSolver().Solve((t, state) => Dynamics(t, state, context, mode, probe, createGraph), start, t0, t1);
        Interlocked.Exchange(ref lastEvaluations, solution.Evaluations);
        Interlocked.Exchange(ref lastSteps, solution.AcceptedSteps);
        var end = solution.State;
        return (end.narrow(1, 0, features), end.select(1, features));
    }

    /// <summary>The augmented dynamics <c>[v(x, t), div v(x, t)]</c> of a state <c>[x, l]</c>.</summary>
    private Tensor Dynamics(double t, Tensor state, Tensor? context, DivergenceEstimator mode, Tensor? probe, bool createGraph)
    {
        // The divergence needs autograd even when the caller evaluates without it (no_grad or inference mode): leave both here.
        // Tensors made in inference mode cannot be saved for backward, so the state and the probe are copied first.
        bool inference = torch.is_inference_mode_enabled();
        using var normalMode = torch.inference_mode(false);
        using var grad = torch.enable_grad();
        var x = state.narrow(1, 0, features);
        if (!x.requires_grad) x = x.detach().clone().requires_grad_(true);
        if (inference && probe is not null) probe = probe.clone();
        using var time = t.ToScalar();
        var column = torch.full(new[] { x.size(0), 1L }, time, dtype: x.dtype, device: x.device);
        var v = VelocityCore(x, column, context);
        // libtorch aborts the process (not an exception) on a gradient of a tensor without a graph: check first.
        if (!v.requires_grad)
            throw new InvalidOperationException("The velocity does not depend on anything that requires a gradient, so its divergence cannot be taken.");
        Tensor div;
        if (probe is null)
        {
            var diagonal = new Tensor[features];
            for (int i = 0; i < features; i++)
            {
                var g = torch.autograd.grad(new[] { v.select(1, i).sum() }, new[] { x }, retain_graph: true, create_graph: createGraph)[0];
                diagonal[i] = g.select(1, i);
            }
            div = features == 1 ? diagonal[0] : torch.stack(diagonal, 1).sum(1);
        }
        else
        {
            var g = torch.autograd.grad(new[] { v.mul(probe).sum() }, new[] { x }, retain_graph: createGraph, create_graph: createGraph)[0];
            div = g.mul(probe).sum(1);
        }
        if (!createGraph)
        {
            v = v.detach();
            div = div.detach();
        }
        return torch.cat(new[] { v, div.unsqueeze(1) }, 1);
    }

    private static int CheckedFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }
}
