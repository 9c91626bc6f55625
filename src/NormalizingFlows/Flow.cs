using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using System.IO;
using NormalizingFlows.Internal;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

/// <summary>
/// A normalizing flow <c>q(x)</c>: a base distribution <c>p(z)</c> pushed through a bijector, <c>x = f(z)</c>.
/// <c>log q(x) = log p(f^-1(x)) + log|det J_f^-1(x)|</c>; sampling draws <c>z ~ p</c> and returns <c>f(z)</c>.
/// </summary>
/// <remarks>
/// A conditional flow (<see cref="Distribution.ContextFeatures"/> &gt; 0: a conditional base, conditional layers, or both)
/// models <c>q(x | c)</c>: every call takes a context <c>[batch, ContextFeatures]</c>, passed to every conditional layer
/// and to the base. Sampling draws one sample per context row (<c>count</c> = the context's rows); for many samples
/// given one context, repeat its row.
/// </remarks>
public sealed class Flow : Distribution
{
    private readonly Distribution @base;
    private readonly Bijector bijector;

    /// <summary>Creates a flow from a base distribution and a bijector of the same event shape.</summary>
    /// <param name="baseDistribution">The base <c>p(z)</c>.</param>
    /// <param name="bijector">The map from base to data; use a <see cref="Chain"/> for several layers.</param>
    /// <exception cref="ArgumentException">The event shapes or context widths disagree.</exception>
    public Flow(Distribution baseDistribution, Bijector bijector)
        : base(nameof(Flow), Checked(baseDistribution, bijector), Math.Max(baseDistribution.ContextFeatures, bijector.ContextFeatures))
    {
        @base = baseDistribution;
        this.bijector = bijector;
        RegisterComponents();
    }

    /// <summary>Loads a flow saved with <see cref="Distribution.Save"/>: rebuilds its architecture and copies its weights.</summary>
    /// <param name="path">The model file.</param>
    /// <param name="device">Where to put the flow; null for the CPU.</param>
    /// <returns>The flow, in the dtype it was saved in, in evaluation mode (call <c>train()</c> to train it further).</returns>
    /// <remarks>Loading does not draw from TorchSharp's global random generator. A file holding a distribution that is not a flow
    /// (a base distribution saved alone) loads with <see cref="ModelFile.Load"/>.</remarks>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="ModelFileException">The file cannot be read as a flow: it holds another kind of model, or is not a model file,
    /// is truncated or corrupt, comes from a newer format version, or its weights do not fit its architecture (the message says which).</exception>
    public static Flow Load(string path, Device? device = null) => ModelFile.LoadModule<Flow>(path, device);

    /// <summary>The base distribution <c>p(z)</c>.</summary>
    public Distribution Base => @base;

    /// <summary>The bijector from base to data.</summary>
    public Bijector Bijector => bijector;

    /// <summary>
    /// Pushes base points through the bijector and returns every layer's output in sampling order
    /// (the input first, then one tensor per layer of a <see cref="Chain"/>, the last being the data).
    /// Without gradients. The caller owns every returned tensor.
    /// </summary>
    /// <param name="z">Base points of shape <c>[batch, ...EventShape]</c>.</param>
    /// <param name="context">Context of shape <c>[batch, ContextFeatures]</c>, or null.</param>
    public IReadOnlyList<Tensor> Trajectory(Tensor z, Tensor? context = null)
    {
        Guard.Batch(z, EventShape, nameof(z));
        Guard.Context(context, ContextFeatures, z.shape[0], nameof(context));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var path = new List<Tensor> { z.alias() };
        if (bijector is Chain chain)
        {
            path.AddRange(chain.TrajectoryCore(z, context));
        }
        else
        {
            path.Add(bijector.ForwardCore(z, context).Output);
        }
        scope.MoveToOuter(path);
        return path;
    }

    /// <inheritdoc />
    /// <remarks>A finite point that the inverse maps beyond floating-point range (far outside the region the
    /// flow was trained on, where its density underflows to zero) gets <c>-inf</c> rather than the NaN that
    /// <c>inf - inf</c> would give.</remarks>
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context)
    {
        var (z, logAbsDet) = bijector.InverseCore(x, context);
        var logProb = @base.LogProbCore(z, BaseContext(context)).add(logAbsDet);
        var overflowed = logProb.isnan().logical_and(x.isfinite().flatten(1).all(1));
        return logProb.masked_fill(overflowed, double.NegativeInfinity);
    }

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var (z, logProb) = @base.SampleWithLogProbCore(count, BaseContext(context), generator);
        var (x, logAbsDet) = bijector.ForwardCore(z, context);
        return (x, logProb.sub(logAbsDet));
    }

    /// <inheritdoc />
    protected internal override Tensor SampleCore(long count, Tensor? context, Generator? generator)
    {
        var z = @base.SampleCore(count, BaseContext(context), generator);
        return bijector.ForwardCore(z, context).Output;
    }

    private Tensor? BaseContext(Tensor? context) => @base.ContextFeatures == 0 ? null : context;

    private static IReadOnlyList<long> Checked(Distribution baseDistribution, Bijector bijector)
    {
        ArgumentNullException.ThrowIfNull(baseDistribution);
        ArgumentNullException.ThrowIfNull(bijector);
        if (!bijector.OutputShape.SequenceEqual(bijector.EventShape))
            throw new ArgumentException(
                $"A flow's bijector must keep the event shape from base to data; this one maps {Guard.Shape(bijector.EventShape)} to {Guard.Shape(bijector.OutputShape)}. " +
                "Undo a reshaping layer inside the chain (e.g. follow a Squeeze by new Invert(new Squeeze(...))).", nameof(bijector));
        if (!baseDistribution.EventShape.SequenceEqual(bijector.EventShape))
            throw new ArgumentException(
                $"The base distribution has event shape {Guard.Shape(baseDistribution.EventShape)} but the bijector has {Guard.Shape(bijector.EventShape)}; they must match.",
                nameof(bijector));
        if (baseDistribution.ContextFeatures != 0 && bijector.ContextFeatures != 0 && baseDistribution.ContextFeatures != bijector.ContextFeatures)
            throw new ArgumentException(
                $"The base distribution takes {baseDistribution.ContextFeatures} context features but the bijector takes {bijector.ContextFeatures}; they must match.",
                nameof(bijector));
        return baseDistribution.EventShape;
    }
}
