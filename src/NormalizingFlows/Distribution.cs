using System;
using System.Collections.Generic;
using System.Linq;
using System.IO;
using System.Text.Json.Nodes;
using NormalizingFlows.Internal;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

/// <summary>
/// A probability distribution over events of shape <see cref="EventShape"/> with exact log-density
/// and sampling, optionally conditioned on a context.
/// </summary>
/// <remarks>Implementers override <see cref="LogProbCore"/> and <see cref="SampleWithLogProbCore"/>
/// (and <see cref="SampleCore"/> when sampling alone is cheaper). The public methods check arguments,
/// open a dispose scope and return only tensors the caller owns.</remarks>
public abstract partial class Distribution : nn.Module
{
    private readonly long[] eventShape;
    private readonly PlacementCache placementCache = new();

    /// <summary>Creates a distribution on events of the given shape.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="eventShape">Shape of one event (e.g. <c>[features]</c>).</param>
    /// <param name="contextFeatures">Width of the context it is conditioned on; 0 for none.</param>
    protected Distribution(string name, IReadOnlyList<long> eventShape, int contextFeatures = 0) : base(name)
    {
        ArgumentNullException.ThrowIfNull(eventShape);
        if (eventShape.Count == 0 || eventShape.Any(d => d <= 0))
            throw new ArgumentException($"Expected an event shape of positive sizes; got {Guard.Shape(eventShape)}.", nameof(eventShape));
        if (contextFeatures < 0)
            throw new ArgumentOutOfRangeException(nameof(contextFeatures), contextFeatures, $"contextFeatures must be 0 or more; got {contextFeatures}.");
        this.eventShape = eventShape.ToArray();
        ContextFeatures = contextFeatures;
    }

    /// <summary>Shape of one event (without the batch dimension).</summary>
    public IReadOnlyList<long> EventShape => eventShape;

    /// <summary>Number of scalar values in one event.</summary>
    public long EventSize => eventShape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Width of the context this distribution takes; 0 when it takes none.</summary>
    public int ContextFeatures { get; }

    /// <summary>Whether <see cref="LogProb"/> (and the log-densities of <see cref="SampleWithLogProb"/>) are stochastic
    /// estimates rather than exact values: true for a flow with a <see cref="Bijectors.ResidualBlock"/> in
    /// <see cref="Bijectors.ResidualLogDet.PowerSeries"/> mode. The default is true when any bijector or distribution among
    /// this module's submodules says so (a <see cref="Flow"/>: its base or its bijector). Evaluate such a model inside
    /// <see cref="Diagnostics.ExactEvaluation.Enter"/> to get exact values where that is affordable; the
    /// <see cref="Diagnostics.Metrics"/> do so themselves.</summary>
    public virtual bool LogProbIsEstimate => EstimateFlags.AnyPartEstimates(this);

    /// <summary>Log-density of each row of <paramref name="x"/>; shape <c>[batch]</c>. Differentiable.</summary>
    /// <param name="x">Points of shape <c>[batch, ...EventShape]</c>, of the model's dtype on its device.</param>
    /// <param name="context">Context of shape <c>[batch, ContextFeatures]</c>, of the model's dtype on its device, or null.</param>
    /// <remarks>Non-finite input, the same for every distribution and flow: a row holding <c>+inf</c> or <c>-inf</c> (and no NaN)
    /// gets <c>-inf</c> (density zero: no point at infinity is in the support); a row holding a NaN gets NaN. Such rows are left
    /// out of the evaluation, so they never touch the other rows (not even through layers that use batch statistics in training
    /// mode) and carry no gradient.</remarks>
    /// <exception cref="ArgumentException">A shape is wrong, or <paramref name="x"/> or <paramref name="context"/> is not of the
    /// model's dtype on its device (those of its first parameter or buffer, e.g. "Expected x of dtype Float32 on cpu (the model's);
    /// got Float64 on cpu."; a model that holds none takes any floating-point dtype).</exception>
    public Tensor LogProb(Tensor x, Tensor? context = null)
    {
        Guard.Shaped(x, EventShape, nameof(x));
        Guard.Context(context, ContextFeatures, x.size(0), nameof(context));
        CheckPlacement(x, nameof(x), context);
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(LogProbOfRows(x, context));
    }

    /// <summary>Draws <paramref name="count"/> samples, shape <c>[count, ...EventShape]</c>, without gradients.</summary>
    /// <param name="count">Number of samples; must be positive. With a context, it must equal the context's rows (one sample per row).</param>
    /// <param name="context">Context of shape <c>[count, ContextFeatures]</c>, or null.</param>
    /// <param name="generator">Random generator for reproducible draws; null uses the default generator of the model's device. TorchSharp
    /// makes only CPU generators, so with one the noise is drawn on the CPU and copied to the model's device: the same seed gives
    /// the same noise on every device (and the same samples up to the device's rounding).</param>
    /// <remarks>A conditional model draws one sample per context row: row <c>i</c> of the result is drawn given
    /// <c>context[i]</c>. For <c>n</c> samples given one context, repeat its row: <c>context.expand(n, -1)</c>.</remarks>
    /// <exception cref="ArgumentException">The context is missing, has the wrong width, its rows differ from <paramref name="count"/>, or
    /// it is not of the model's dtype on its device.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> samples alone would exceed the memory of this process (on
    /// the CPU; checked before anything is allocated).</exception>
    public Tensor Sample(long count, Tensor? context = null, Generator? generator = null)
    {
        Guard.Positive(count, nameof(count));
        CheckSampleContext(count, context);
        CheckPlacement(null, "x", context);
        RequireSampleMemory(count);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return scope.MoveToOuter(SampleCore(count, context, generator));
    }

    /// <summary>Draws samples and their log-densities in one pass (differentiable, as reverse-KL training needs).</summary>
    /// <param name="count">Number of samples; must be positive. With a context, it must equal the context's rows.</param>
    /// <param name="context">Context of shape <c>[count, ContextFeatures]</c>, or null.</param>
    /// <param name="generator">Random generator for reproducible draws; null uses the default generator of the model's device. TorchSharp
    /// makes only CPU generators, so with one the noise is drawn on the CPU and copied to the model's device: the same seed gives
    /// the same noise on every device (and the same samples up to the device's rounding).</param>
    /// <returns>Samples <c>[count, ...EventShape]</c> and their log-densities <c>[count]</c>.</returns>
    /// <remarks>As <see cref="Sample"/>: with a context, one sample per context row.</remarks>
    /// <exception cref="ArgumentException">The context is missing, has the wrong width, its rows differ from <paramref name="count"/>, or
    /// it is not of the model's dtype on its device.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> samples alone would exceed the memory of this process (on
    /// the CPU; checked before anything is allocated).</exception>
    public (Tensor Samples, Tensor LogProb) SampleWithLogProb(long count, Tensor? context = null, Generator? generator = null)
    {
        Guard.Positive(count, nameof(count));
        CheckSampleContext(count, context);
        CheckPlacement(null, "x", context);
        RequireSampleMemory(count);
        using var scope = torch.NewDisposeScope();
        var (samples, logProb) = SampleWithLogProbCore(count, context, generator);
        return scope.MoveToOuter(samples, logProb);
    }

    /// <summary>
    /// Saves this model (its architecture as readable JSON and its weights: every parameter and buffer) to one file, from which
    /// <see cref="Flow.Load"/> or <see cref="ModelFile.Load"/> rebuilds it without the code that built it.
    /// </summary>
    /// <param name="path">The file to create or replace; <see cref="ModelFile.Extension"/> (<c>.nflow</c>) is the suggested extension.</param>
    /// <param name="metadata">Any JSON object to keep with the model (training settings, data description, ...); read it back with
    /// <see cref="ModelFile.ReadMetadata"/>. A copy is saved.</param>
    /// <remarks>The write is atomic: the file appears complete or not at all, and an error (or a crash) mid-save leaves a previous
    /// file at <paramref name="path"/> as it was. Every part of the model must be registered in <see cref="ModelRegistry"/>; all of
    /// the library's types are. The file format is described at <see cref="ModelFile"/>.</remarks>
    /// <exception cref="NotSupportedException">A part of the model is of a type not registered in <see cref="ModelRegistry"/> (the
    /// message names it and says how to register it); nothing is written.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path, JsonObject? metadata = null) => ModelFile.Save(this, path, metadata);

    /// <summary>A count whose samples alone exceed this process's memory fails here, naming it, before anything is allocated.</summary>
    private void RequireSampleMemory(long count)
    {
        var placement = placementCache.Get(this);
        MemoryBudget.RequireFits(count, EventSize, placement?.DType ?? ScalarType.Float32, placement?.DeviceType ?? DeviceType.CPU, nameof(count), "samples");
    }

    private void CheckSampleContext(long count, Tensor? context)
    {
        if (context is not null && ContextFeatures != 0 && context.dim() == 2 && context.size(1) == ContextFeatures && context.size(0) != count)
            throw new ArgumentException(
                $"Sampling with a context draws one sample per context row, so count ({count}) must equal the context's rows ({context.size(0)}); " +
                $"to draw {count} samples for one context, repeat its row (context.expand({count}, -1)).", nameof(context));
        Guard.Context(context, ContextFeatures, count, nameof(context));
    }

    /// <summary>The dtype and device of this distribution's parameters (or buffers), cached until the next <c>to(...)</c>; null
    /// for a distribution that holds none.</summary>
    internal ModelPlacement? Placement => placementCache.Get(this);

    /// <summary>Checks an input (null for none) and a context against <see cref="Placement"/> (see <see cref="Guard.Placement"/>).</summary>
    internal void CheckPlacement(Tensor? input, string inputName, Tensor? context) =>
        Guard.Placement(this, placementCache, input, inputName, context);

    /// <summary>
    /// <see cref="LogProbCore"/> with the non-finite-input convention of <see cref="LogProb"/>, in the caller's dispose scope: when
    /// every value is finite (one reduction to find out), the core alone; otherwise the core on the finite rows only, and
    /// <c>-inf</c> for rows holding an infinity, NaN for rows holding a NaN.
    /// </summary>
    internal Tensor LogProbOfRows(Tensor x, Tensor? context)
    {
        if (TensorValues.AllFinite(x)) return LogProbCore(x, context);
        var finite = x.isfinite();
        var finiteRows = finite.flatten(1).all(1);
        var nanRows = x.isnan().flatten(1).any(1);
        var rows = finiteRows.nonzero().flatten();
        var batch = new[] { x.size(0) };
        if (rows.size(0) == 0)
            return torch.full(batch, Scalars.Of(double.NegativeInfinity), dtype: x.dtype, device: x.device).masked_fill(nanRows, Scalars.Of(double.NaN));
        var finiteLogProb = LogProbCore(x.index_select(0, rows), context?.index_select(0, rows));
        return torch.full(batch, Scalars.Of(double.NegativeInfinity), dtype: finiteLogProb.dtype, device: finiteLogProb.device)
            .index_copy(0, rows, finiteLogProb)
            .masked_fill(nanRows, Scalars.Of(double.NaN));
    }

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

    /// <summary>Log-density without checks or scope.</summary>
    protected internal abstract Tensor LogProbCore(Tensor x, Tensor? context);

    /// <summary>Samples with their log-densities, without checks or scope.</summary>
    protected internal abstract (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator);

    /// <summary>Samples without checks or scope. The default draws with log-densities and drops them.</summary>
    protected internal virtual Tensor SampleCore(long count, Tensor? context, Generator? generator) =>
        SampleWithLogProbCore(count, context, generator).Samples;
}
