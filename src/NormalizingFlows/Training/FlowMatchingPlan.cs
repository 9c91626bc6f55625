using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

/// <summary>
/// How a flow-matching fit reaches the one <see cref="ContinuousFlow"/> of a flow: the flow's bijector, with nested chains
/// flattened, is <c>[before..., continuous flow, after...]</c> in forward order; base samples go forward through the layers
/// before it and data rows back through the layers after it (both without gradients), so that the velocity is matched between
/// the two ends of the continuous flow itself. The other layers must hold no trainable parameter (a standardisation, fixed
/// shifts and scales, permutations): flow matching trains the velocity only.
/// </summary>
internal sealed class FlowMatchingPlan
{
    private readonly Flow flow;
    private readonly Bijector[] before;
    private readonly Bijector[] after;
    private readonly FlowMatchingOptions options;

    private FlowMatchingPlan(Flow flow, ContinuousFlow continuous, Bijector[] before, Bijector[] after, FlowMatchingOptions options)
    {
        this.flow = flow;
        Continuous = continuous;
        this.before = before;
        this.after = after;
        this.options = options;
    }

    /// <summary>The continuous flow whose velocity is trained.</summary>
    public ContinuousFlow Continuous { get; }

    /// <summary>The objective's name, for checkpoints.</summary>
    public string Objective => string.Create(CultureInfo.InvariantCulture,
        $"flow-matching(optimalTransport: {options.OptimalTransport}, pathNoise: {options.PathNoise:R})");

    /// <summary>Finds the continuous flow and checks the rest.</summary>
    /// <exception cref="ArgumentException">There is no continuous flow, or more than one, or another layer or the base has a
    /// trainable parameter, or optimal transport is asked for a conditional flow.</exception>
    public static FlowMatchingPlan Create(Flow flow, FlowMatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var layers = new List<Bijector>();
        Flatten(flow.Bijector, layers);
        var continuous = layers.OfType<ContinuousFlow>().ToArray();
        if (continuous.Length != 1)
            throw new ArgumentException(
                $"Flow matching trains the velocity of one ContinuousFlow; this flow's bijector has {continuous.Length} " +
                $"(layers: {string.Join(", ", layers.Select(l => l.GetType().Name))}).", nameof(flow));
        int index = layers.IndexOf(continuous[0]);
        var others = layers.Where((_, i) => i != index).Cast<nn.Module>().Append(flow.Base);
        foreach (var other in others)
        {
            if (other.parameters().Any(p => p.requires_grad))
                throw new ArgumentException(
                    $"Flow matching trains only the ContinuousFlow's velocity, but {other.GetType().Name} has trainable parameters; use a base and " +
                    "layers without them (a standard normal base, a fitted standardisation) or train by maximum likelihood (Fit.ToData).", nameof(flow));
        }
        if (options.OptimalTransport && flow.ContextFeatures > 0)
            throw new ArgumentException(
                "Optimal-transport pairing across a batch of different contexts would make the noise depend on the context; use it for unconditional flows only.", nameof(options));
        return new FlowMatchingPlan(flow, continuous[0], layers.Take(index).ToArray(), layers.Skip(index + 1).ToArray(), options);
    }

    /// <summary>The flow-matching loss on one batch of data rows: <c>mean_rows |v(x_t, t) - (x1 - x0)|^2</c> with
    /// <c>x_t = (1 - t) x0 + t x1 (+ sigma e)</c>, <c>t ~ U[0, 1]</c>, <c>x0</c> base samples (pushed through the layers before the
    /// continuous flow), <c>x1</c> the data pulled back through the layers after it.</summary>
    public Tensor Loss(Tensor batch, Tensor? context, Generator generator)
    {
        long rows = batch.size(0);
        Tensor x0, x1;
        using (torch.no_grad())
        {
            x1 = batch;
            for (int i = after.Length - 1; i >= 0; i--) x1 = after[i].InverseCore(x1, context).Output;
            x0 = flow.Base.SampleCore(rows, flow.Base.ContextFeatures > 0 ? context : null, generator);
            foreach (var layer in before) x0 = layer.ForwardCore(x0, context).Output;
            if (options.OptimalTransport && rows > 1) x0 = x0.index_select(0, Pairing(x0, x1));
        }
        var t = Draw.Uniform(new[] { rows, 1L }, x1.dtype, x1.device, generator);
        var path = x0.mul(torch.ones_like(t).sub(t)).add(x1.mul(t), Scalars.One);
        if (options.PathNoise > 0)
        {
            using var sigma = options.PathNoise.ToScalar();
            path = path.add(Draw.Normal(x1.shape, x1.dtype, x1.device, generator), sigma);
        }
        var target = x1.sub(x0);
        var velocity = Continuous.VelocityCore(path, t, context);
        return velocity.sub(target).pow(Scalars.Two).sum(1).mean();
    }

    /// <summary>For each data row, the index of the noise row paired with it by the exact assignment of least total squared
    /// distance.</summary>
    private static Tensor Pairing(Tensor x0, Tensor x1)
    {
        int n = checked((int)x0.size(0));
        var distances = torch.cdist(x1.to(ScalarType.Float64), x0.to(ScalarType.Float64)).pow(Scalars.Two).cpu().contiguous();
        var cost = distances.data<double>().ToArray();
        var assignment = LinearAssignment.Solve(cost, n); // data row i <- noise row assignment[i]
        return torch.tensor(assignment.Select(a => (long)a).ToArray(), dtype: ScalarType.Int64, device: x0.device);
    }

    private static void Flatten(Bijector bijector, List<Bijector> layers)
    {
        if (bijector is Chain chain)
            foreach (var layer in chain.Layers) Flatten(layer, layers);
        else
            layers.Add(bijector);
    }
}
