using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

/// <summary>
/// An invertible, differentiable map with a tractable Jacobian determinant.
/// <see cref="Forward"/> goes from base to data (<c>x = f(z)</c>), <see cref="Inverse"/> from data to base.
/// Each direction returns its output and <c>log|det J|</c> of that direction, one value per batch row;
/// the inverse log-det is minus the forward one at the matching point.
/// </summary>
/// <remarks>
/// Implementers override <see cref="ForwardCore"/> and <see cref="InverseCore"/>: the public methods
/// check shapes, open a dispose scope and hand back only the results. Core methods must return fresh
/// tensors (use <c>alias()</c> for an identity), never an input or a parameter itself.
/// Note for readers of zuko and nflows: those libraries call data -> base "forward"; here it is <see cref="Inverse"/>.
/// </remarks>
public abstract partial class Bijector : nn.Module
{
    private readonly long[] eventShape;
    private readonly long[] outputShape;
    private readonly PlacementCache placementCache = new();

    /// <summary>Creates a bijector on events of the given shape.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="eventShape">Shape of one event, without the batch dimension (e.g. <c>[features]</c>).</param>
    /// <param name="contextFeatures">Width of the context this bijector is conditioned on; 0 for none.</param>
    protected Bijector(string name, IReadOnlyList<long> eventShape, int contextFeatures = 0)
        : this(name, eventShape, eventShape, contextFeatures)
    {
    }

    /// <summary>Creates a bijector that reshapes its events (the same number of values on both sides, e.g. <see cref="Bijectors.Squeeze"/>).</summary>
    /// <param name="name">The module name.</param>
    /// <param name="eventShape">Shape of one event on the base side: what <see cref="Forward"/> takes and <see cref="Inverse"/> returns.</param>
    /// <param name="outputShape">Shape of one event on the data side: what <see cref="Forward"/> returns and <see cref="Inverse"/> takes.</param>
    /// <param name="contextFeatures">Width of the context this bijector is conditioned on; 0 for none.</param>
    /// <exception cref="ArgumentException">A shape has a size below 1, or the two shapes hold different numbers of values.</exception>
    protected Bijector(string name, IReadOnlyList<long> eventShape, IReadOnlyList<long> outputShape, int contextFeatures = 0) : base(name)
    {
        ArgumentNullException.ThrowIfNull(eventShape);
        ArgumentNullException.ThrowIfNull(outputShape);
        if (eventShape.Count == 0 || eventShape.Any(d => d <= 0))
            throw new ArgumentException($"Expected an event shape of positive sizes; got {Guard.Shape(eventShape)}.", nameof(eventShape));
        if (outputShape.Count == 0 || outputShape.Any(d => d <= 0))
            throw new ArgumentException($"Expected an output shape of positive sizes; got {Guard.Shape(outputShape)}.", nameof(outputShape));
        if (eventShape.Aggregate(1L, (a, b) => a * b) != outputShape.Aggregate(1L, (a, b) => a * b))
            throw new ArgumentException(
                $"A bijector keeps the number of values: event shape {Guard.Shape(eventShape)} and output shape {Guard.Shape(outputShape)} hold different numbers.", nameof(outputShape));
        if (contextFeatures < 0)
            throw new ArgumentOutOfRangeException(nameof(contextFeatures), contextFeatures, $"contextFeatures must be 0 or more; got {contextFeatures}.");
        this.eventShape = eventShape.ToArray();
        this.outputShape = outputShape.SequenceEqual(eventShape) ? this.eventShape : outputShape.ToArray();
        ContextFeatures = contextFeatures;
    }

    /// <summary>Shape of one event (without the batch dimension) on the base side: what <see cref="Forward"/> takes and
    /// <see cref="Inverse"/> returns. The same as <see cref="OutputShape"/> for every bijector that does not reshape.</summary>
    public IReadOnlyList<long> EventShape => eventShape;

    /// <summary>Shape of one event on the data side: what <see cref="Forward"/> returns and <see cref="Inverse"/> takes. Differs
    /// from <see cref="EventShape"/> only for bijectors that reshape their events (<see cref="Bijectors.Squeeze"/>, chains and
    /// inversions of one); a <see cref="Flow"/> needs a bijector whose two shapes agree.</summary>
    public IReadOnlyList<long> OutputShape => outputShape;

    /// <summary>Width of the context tensor this bijector takes; 0 when it takes none.</summary>
    public int ContextFeatures { get; }

    /// <summary>Whether the <c>LogAbsDet</c> this bijector returns is a stochastic estimate rather than the exact
    /// <c>log|det J|</c> (e.g. a <see cref="Bijectors.ResidualBlock"/> in <see cref="Bijectors.ResidualLogDet.PowerSeries"/>
    /// mode). The default is true when any bijector or distribution among this module's submodules says so, so composites
    /// (<see cref="Bijectors.Chain"/>, <see cref="Bijectors.Invert"/>) answer for their parts; a layer whose own log-det is an
    /// estimate overrides it.</summary>
    public virtual bool LogDetIsEstimate => EstimateFlags.AnyPartEstimates(this);

    /// <summary>Maps base to data: returns <c>y = f(x)</c> and <c>log|det df/dx|</c> per row.</summary>
    /// <param name="x">Batch of shape <c>[batch, ...EventShape]</c>.</param>
    /// <param name="context">Context of shape <c>[batch, ContextFeatures]</c>, or null when <see cref="ContextFeatures"/> is 0.</param>
    /// <exception cref="ArgumentException">The shape of <paramref name="x"/> or <paramref name="context"/> is wrong, or either is not of
    /// the bijector's dtype on its device (those of its parameters; any floating-point dtype for a bijector without any).</exception>
    /// <remarks>A row holding NaN or +-inf has no image: its output row and log-det are NaN, and the other rows get what they get
    /// alone (the non-finite rows never reach the layers).</remarks>
    public (Tensor Output, Tensor LogAbsDet) Forward(Tensor x, Tensor? context = null)
    {
        Guard.Shaped(x, EventShape, nameof(x));
        Guard.Context(context, ContextFeatures, x.size(0), nameof(context));
        CheckPlacement(x, nameof(x), context);
        using var scope = torch.NewDisposeScope();
        var (output, logAbsDet) = OfFiniteRows(x, context, OutputShape, ForwardCore);
        return scope.MoveToOuter(output, logAbsDet);
    }

    /// <summary>Maps data to base: returns <c>x = f^-1(y)</c> and <c>log|det df^-1/dy|</c> per row.</summary>
    /// <param name="y">Batch of shape <c>[batch, ...OutputShape]</c> (the same as <see cref="EventShape"/> unless the bijector reshapes).</param>
    /// <param name="context">Context of shape <c>[batch, ContextFeatures]</c>, or null when <see cref="ContextFeatures"/> is 0.</param>
    /// <exception cref="ArgumentException">The shape of <paramref name="y"/> or <paramref name="context"/> is wrong, or either is not of
    /// the bijector's dtype on its device (those of its parameters; any floating-point dtype for a bijector without any).</exception>
    /// <remarks>As <see cref="Forward"/>: a row holding NaN or +-inf gives a NaN row and log-det.</remarks>
    public (Tensor Output, Tensor LogAbsDet) Inverse(Tensor y, Tensor? context = null)
    {
        Guard.Shaped(y, OutputShape, nameof(y));
        Guard.Context(context, ContextFeatures, y.size(0), nameof(context));
        CheckPlacement(y, nameof(y), context);
        using var scope = torch.NewDisposeScope();
        var (output, logAbsDet) = OfFiniteRows(y, context, EventShape, InverseCore);
        return scope.MoveToOuter(output, logAbsDet);
    }

    /// <summary><paramref name="core"/> of the rows of <paramref name="input"/> that are finite, and NaN (output row and log-det)
    /// for the others; one reduction when every row is finite.</summary>
    private static (Tensor Output, Tensor LogAbsDet) OfFiniteRows(Tensor input, Tensor? context, IReadOnlyList<long> outputShape,
        Func<Tensor, Tensor?, (Tensor Output, Tensor LogAbsDet)> core)
    {
        if (TensorValues.AllFinite(input)) return core(input, context);
        var rows = input.isfinite().flatten(1).all(1).nonzero().flatten();
        long batch = input.size(0);
        var shape = new[] { batch }.Concat(outputShape).ToArray();
        var output = torch.full(shape, Scalars.Of(double.NaN), dtype: input.dtype, device: input.device);
        var logAbsDet = torch.full(new[] { batch }, Scalars.Of(double.NaN), dtype: input.dtype, device: input.device);
        if (rows.size(0) == 0) return (output, logAbsDet);
        var (finiteOutput, finiteLogAbsDet) = core(input.index_select(0, rows), context?.index_select(0, rows));
        return (output.index_copy(0, rows, finiteOutput), logAbsDet.index_copy(0, rows, finiteLogAbsDet));
    }

    /// <summary>The dtype and device of this bijector's parameters (or buffers), cached until the next <c>to(...)</c>; null for a
    /// bijector that holds none.</summary>
    internal ModelPlacement? Placement => placementCache.Get(this);

    /// <summary>Checks an input (null for none) and a context against <see cref="Placement"/> (see <see cref="Guard.Placement"/>).</summary>
    internal void CheckPlacement(Tensor? input, string inputName, Tensor? context) =>
        Guard.Placement(this, placementCache, input, inputName, context);

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        try { return base._to(device, dtype, non_blocking); }
        finally { PlacementCache.Invalidate(); }
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        try { return base._to(deviceType, deviceIndex, non_blocking); }
        finally { PlacementCache.Invalidate(); }
    }

    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        try { return base._to(dtype, non_blocking); }
        finally { PlacementCache.Invalidate(); }
    }

    /// <summary>The forward map without checks or scope; inputs are already validated.</summary>
    protected internal abstract (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context);

    /// <summary>The inverse map without checks or scope; inputs are already validated.</summary>
    protected internal abstract (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context);

    /// <summary>This module's fused-kernel plans, one per dtype, device, gradient mode and kernel switch
    /// (<see cref="Kernels.FusionPlanner"/>).</summary>
    internal Kernels.FusionCache FusionCache { get; } = new();
}
