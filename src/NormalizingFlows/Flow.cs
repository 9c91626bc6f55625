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
    private long evaluationChunkRows;
    private long? automaticChunkRows;

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
    /// <param name="limits">Bounds on what the file may ask to be built (widths, layers, parameters, inflated sizes); null for
    /// <see cref="ModelFileLimits"/>' defaults, generous for real models.</param>
    public static Flow Load(string path, Device? device = null, ModelFileLimits? limits = null) => ModelFile.LoadModule<Flow>(path, device, limits);

    /// <summary>The base distribution <c>p(z)</c>.</summary>
    public Distribution Base => @base;

    /// <summary>The bijector from base to data.</summary>
    public Bijector Bijector => bijector;

    /// <inheritdoc />
    /// <remarks>For a flow: its base's log-density or its bijector's log-det is an estimate.</remarks>
    public override bool LogProbIsEstimate => @base.LogProbIsEstimate || bijector.LogDetIsEstimate;

    /// <summary>
    /// Pushes base points through the bijector and returns every layer's output in sampling order
    /// (the input first, then one tensor per layer of a <see cref="Chain"/>, the last being the data).
    /// Without gradients. The caller owns every returned tensor.
    /// </summary>
    /// <param name="z">Base points of shape <c>[batch, ...EventShape]</c>.</param>
    /// <param name="context">Context of shape <c>[batch, ContextFeatures]</c>, or null.</param>
    /// <exception cref="ArgumentException">A shape is wrong, or <paramref name="z"/> or <paramref name="context"/> is not of the
    /// flow's dtype on its device.</exception>
    public IReadOnlyList<Tensor> Trajectory(Tensor z, Tensor? context = null)
    {
        Guard.Shaped(z, EventShape, nameof(z));
        Guard.Context(context, ContextFeatures, z.size(0), nameof(context));
        CheckPlacement(z, nameof(z), context);
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

    /// <summary>
    /// Rows per piece when the flow evaluates or samples without gradients (under <c>torch.no_grad()</c> or inference mode) in
    /// evaluation mode (<c>eval()</c>): a larger batch goes through the layers piece by piece, so that each layer's intermediate
    /// results stay in the processor's cache and are freed as soon as their piece is done. The result equals that of one piece
    /// (up to floating-point rounding); samples consume the generator exactly as in one piece.
    /// 0 (the default) sizes pieces from the widest layer, at about <see cref="AutomaticChunkElements"/> activations each, or,
    /// when every layer runs through the fused CPU kernels block by block (nested chains included; a standardisation may sit
    /// beside them), which cut the batch into cache-sized blocks themselves and keep no layer's output, at
    /// <see cref="FusedChunkElements"/> values of the event each;
    /// <see cref="long.MaxValue"/> evaluates every batch in one piece. With gradients on or in training mode the whole batch is
    /// always one piece (batch statistics and data-dependent initialisation see every row).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long EvaluationChunkRows
    {
        get => evaluationChunkRows;
        set
        {
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(EvaluationChunkRows), value, $"EvaluationChunkRows must be 0 (automatic) or positive; got {value}.");
            evaluationChunkRows = value;
        }
    }

    /// <summary>Activations per piece (one layer's output for the rows of a piece: 4 MiB of float32) that the automatic
    /// <see cref="EvaluationChunkRows"/> aims at; the best of the sizes measured on 64-wide flows (docs/benchmarks.md), well
    /// inside a server's last-level cache and large enough that per-call costs stay small.</summary>
    public const long AutomaticChunkElements = Kernels.EvaluationPieces.AutomaticElements;

    /// <summary>Values of the event per piece (16 MiB of float32) when the whole chain runs through the fused CPU kernels: such a
    /// chain keeps nothing per layer, so pieces only bound the base distribution's temporaries, and fewer pieces save a round of
    /// the threads each (about 10 % of a 100 000-point log-prob of a 2-feature flow).</summary>
    public const long FusedChunkElements = Kernels.EvaluationPieces.FusedElements;

    /// <summary>The automatic piece never has fewer rows than this: below it, the per-call cost of each layer outweighs the
    /// cache benefit.</summary>
    public const long MinimumChunkRows = Kernels.EvaluationPieces.MinimumRows;

    /// <summary>The rows per piece that evaluation without gradients uses for this flow (<see cref="EvaluationChunkRows"/>, or
    /// the automatic size: <see cref="AutomaticChunkElements"/> divided by the widest layer output, at least
    /// <see cref="MinimumChunkRows"/>).</summary>
    public long ChunkRows => evaluationChunkRows > 0 ? evaluationChunkRows : automaticChunkRows ??= Kernels.EvaluationPieces.AutomaticRows(this);

    /// <inheritdoc />
    /// <remarks>A finite point that the inverse maps beyond floating-point range (far outside the region the
    /// flow was trained on, where its density underflows to zero) gets <c>-inf</c> rather than the NaN that
    /// <c>inf - inf</c> would give.</remarks>
    protected internal override Tensor LogProbCore(Tensor x, Tensor? context) =>
        InPieces(x.size(0), x, context, (start, length, c) => new[] { LogProbWhole(x.narrow(0, start, length), c) })[0];

    /// <inheritdoc />
    protected internal override (Tensor Samples, Tensor LogProb) SampleWithLogProbCore(long count, Tensor? context, Generator? generator)
    {
        var (z, logProb) = @base.SampleWithLogProbCore(count, BaseContext(context), generator);
        var pieces = InPieces(count, z, context, (start, length, c) =>
        {
            var (x, logAbsDet) = bijector.ForwardCore(z.narrow(0, start, length), c);
            return new[] { x, logProb.narrow(0, start, length).sub(logAbsDet) };
        });
        return (pieces[0], pieces[1]);
    }

    /// <inheritdoc />
    protected internal override Tensor SampleCore(long count, Tensor? context, Generator? generator)
    {
        var z = @base.SampleCore(count, BaseContext(context), generator);
        return InPieces(count, z, context, (start, length, c) => new[] { bijector.ForwardCore(z.narrow(0, start, length), c).Output })[0];
    }

    private Tensor LogProbWhole(Tensor x, Tensor? context)
    {
        var logProb = context is null ? FusedLogProb(x) : null;
        if (logProb is null)
        {
            var (z, logAbsDet) = bijector.InverseCore(x, context);
            logProb = @base.LogProbCore(z, BaseContext(context)).add(logAbsDet, Scalars.One);
        }
        // x is finite here (LogProb hands non-finite rows to no core; see Distribution.LogProbOfRows): a NaN is an overflow.
        return logProb.masked_fill(logProb.isnan(), Scalars.Of(double.NegativeInfinity));
    }

    /// <summary>The log-density through the fused kernels from the data to the base density block by block
    /// (<see cref="Kernels.FusedChain.TryLogProb"/>), or null where the planner does not run the bijector so or the base has no
    /// kernel.</summary>
    private Tensor? FusedLogProb(Tensor x) =>
        Kernels.FusedChain.TryLogProb(Kernels.FusionPlanner.Plan(bijector, x), x, (@base as Kernels.IFusableDistribution)?.DescribeForKernels());

    /// <summary>Runs <paramref name="evaluate"/> on all <paramref name="rows"/> at once, or, when evaluating without gradients in
    /// evaluation mode, piece by piece (each piece in its own dispose scope) and concatenates the pieces' results. The piece size
    /// is the planner's (<see cref="Kernels.EvaluationPieces"/>); <paramref name="input"/> is what the bijector will take (its dtype
    /// and device select the plan).</summary>
    private Tensor[] InPieces(long rows, Tensor input, Tensor? context, Func<long, long, Tensor?, Tensor[]> evaluate)
    {
        long chunk = Kernels.EvaluationPieces.Rows(rows, evaluationChunkRows, () => torch.is_grad_enabled() || AnyTraining(),
            () => Kernels.FusionPlanner.Plan(bijector, input), EventSize, () => ChunkRows);
        if (chunk >= rows) return evaluate(0, rows, context);
        int count = (int)((rows + chunk - 1) / chunk);
        var pieces = new Tensor[count][];
        for (int i = 0; i < count; i++)
        {
            long start = i * chunk, length = Math.Min(chunk, rows - start);
            using var scope = torch.NewDisposeScope();
            pieces[i] = evaluate(start, length, context?.narrow(0, start, length));
            scope.MoveToOuter(pieces[i]);
        }
        var results = new Tensor[pieces[0].Length];
        for (int k = 0; k < results.Length; k++)
        {
            var parts = pieces.Select(p => p[k]).ToArray();
            results[k] = torch.cat(parts, 0);
            foreach (var part in parts) part.Dispose();
        }
        return results;
    }

    private bool AnyTraining() => training || modules().Any(m => m.training);

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
