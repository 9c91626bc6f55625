using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using NormalizingFlows.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Composition of bijectors applied in list order.
/// Forward: <c>y = f_n(...f_2(f_1(x)))</c> (the first layer first); log-det: the sum of the layers' forward log-dets.
/// Inverse: the layers' inverses in reverse order; log-det: the sum of their inverse log-dets.
/// (TFP's Chain applies its list in the opposite order; zuko and FlowJAX agree with this one.)
/// Each layer takes the shape the one before it gives (<see cref="Bijector.EventShape"/> of layer <c>i</c> =
/// <see cref="Bijector.OutputShape"/> of layer <c>i - 1</c>), so reshaping layers such as <see cref="Squeeze"/> may sit inside.
/// </summary>
public sealed partial class Chain : Bijector, IFusableLayer
{
    private readonly ModuleList<Bijector> layers;

    /// <summary>Creates a chain of the given layers, applied in order by <see cref="Bijector.Forward"/>.</summary>
    /// <exception cref="ArgumentException">The list is empty, a layer does not take the shape the one before it gives, or the context widths disagree.</exception>
    public Chain(params Bijector[] layers) : this((IEnumerable<Bijector>)layers) { }

    /// <summary>Creates a chain of the given layers, applied in order by <see cref="Bijector.Forward"/>.</summary>
    /// <exception cref="ArgumentException">The list is empty, a layer does not take the shape the one before it gives, or the context widths disagree.</exception>
    public Chain(IEnumerable<Bijector> layers) : this(new CheckedLayers(Checked(layers))) { }

    private Chain(CheckedLayers layers)
        : base(nameof(Chain), layers.Items[0].EventShape, layers.Items[^1].OutputShape, layers.Items.Max(l => l.ContextFeatures))
    {
        this.layers = nn.ModuleList(layers.Items);
        RegisterComponents();
    }

    /// <summary>The layers in the order <see cref="Bijector.Forward"/> applies them.</summary>
    public IReadOnlyList<Bijector> Layers => new System.Collections.ObjectModel.ReadOnlyCollection<Bijector>(layers);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        var plan = FusionPlanner.Plan(this, x);
        if ((FusedChain.TryApply(plan, x, inverse: false) ?? FusedChainTraining.TryApply(plan, x, inverse: false)) is { } fused) return fused;
        Tensor y = x;
        Tensor? total = null;
        for (int i = 0; i < layers.Count; i++)
            (y, total) = Step(layers[i], y, total, context, inverse: false, ownsInput: i > 0);
        return (y, total!);
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        var plan = FusionPlanner.Plan(this, y);
        if ((FusedChain.TryApply(plan, y, inverse: true) ?? FusedChainTraining.TryApply(plan, y, inverse: true)) is { } fused) return fused;
        Tensor x = y;
        Tensor? total = null;
        for (int i = layers.Count - 1; i >= 0; i--)
            (x, total) = Step(layers[i], x, total, context, inverse: true, ownsInput: i < layers.Count - 1);
        return (x, total!);
    }

    /// <summary>
    /// Runs one layer in its own dispose scope, so that its temporaries (hidden activations, transform
    /// parameters) are freed as soon as the layer is done rather than when the whole chain is: on large
    /// batches this keeps peak memory at one layer's worth. Autograd keeps whatever backward needs alive on
    /// its own, so disposing here never breaks training.
    /// </summary>
    private static (Tensor Output, Tensor LogAbsDet) Step(Bijector layer, Tensor input, Tensor? total, Tensor? context, bool inverse, bool ownsInput)
    {
        Tensor output, sum;
        using (var scope = torch.NewDisposeScope())
        {
            var (next, logAbsDet) = inverse ? layer.InverseCore(input, ContextFor(layer, context)) : layer.ForwardCore(input, ContextFor(layer, context));
            (output, sum) = scope.MoveToOuter(next, total is null ? logAbsDet : total.add(logAbsDet, Scalars.One));
        }
        if (ownsInput) input.Dispose();
        total?.Dispose();
        return (output, sum);
    }

    /// <inheritdoc />
    LayerDescription? IFusableLayer.DescribeForKernels() => new ChainDescription(Layers);

    /// <summary>Every layer's output in forward order, without checks or scope.</summary>
    internal IReadOnlyList<Tensor> TrajectoryCore(Tensor x, Tensor? context)
    {
        var outputs = new List<Tensor>(layers.Count);
        Tensor y = x;
        for (int i = 0; i < layers.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            y = scope.MoveToOuter(layers[i].ForwardCore(y, ContextFor(layers[i], context)).Output);
            outputs.Add(y);
        }
        return outputs;
    }

    /// <summary>Every layer's output in forward order (one tensor per layer, the last being the chain's output), without gradients.</summary>
    /// <param name="x">Input of shape <c>[batch, ...EventShape]</c>.</param>
    /// <param name="context">Context of shape <c>[batch, ContextFeatures]</c>, or null.</param>
    public IReadOnlyList<Tensor> ForwardTrajectory(Tensor x, Tensor? context = null)
    {
        Guard.Shaped(x, EventShape, nameof(x));
        Guard.Context(context, ContextFeatures, x.size(0), nameof(context));
        CheckPlacement(x, nameof(x), context);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var outputs = TrajectoryCore(x, context);
        scope.MoveToOuter(outputs);
        return outputs;
    }

    private readonly record struct CheckedLayers(Bijector[] Items);

    private static Tensor? ContextFor(Bijector layer, Tensor? context) => layer.ContextFeatures == 0 ? null : context;

    private static Bijector[] Checked(IEnumerable<Bijector> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var list = layers.ToArray();
        if (list.Length == 0) throw new ArgumentException("A chain needs at least one layer; got none.", nameof(layers));
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] is null) throw new ArgumentException($"Layer {i} is null.", nameof(layers));
            if (i > 0 && !list[i].EventShape.SequenceEqual(list[i - 1].OutputShape))
                throw new ArgumentException(
                    $"Layer {i} ({list[i].GetType().Name}) has event shape {Guard.Shape(list[i].EventShape)} but layer {i - 1} ({list[i - 1].GetType().Name}) " +
                    $"gives {Guard.Shape(list[i - 1].OutputShape)}; each layer must take the shape the one before it gives.",
                    nameof(layers));
        }
        var widths = list.Select(l => l.ContextFeatures).Where(c => c != 0).Distinct().ToArray();
        if (widths.Length > 1)
            throw new ArgumentException($"The layers take different context widths ({string.Join(", ", widths)}); a chain passes one context to all of them.", nameof(layers));
        return list;
    }
}
