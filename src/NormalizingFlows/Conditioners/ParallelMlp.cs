using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Conditioners;

/// <summary>
/// Several MLPs of one architecture on the same input, computed together: each layer of all of them is one batched matrix
/// product, so <c>parts</c> networks cost about the native calls of one. The output is laid out as
/// <see cref="Stacked"/> lays out separate <see cref="Mlp"/>s (<c>[batch, outFeatures, parts]</c> flattened: output <c>j</c> of
/// network <c>p</c> at column <c>j * parts + p</c>), and with the same generator the networks start with the same weights as
/// <c>parts</c> <see cref="Mlp"/>s built one after the other, so it is a faster drop-in for a <see cref="Stacked"/> of equal
/// <see cref="Mlp"/>s such as RealNVP's separate shift and log-scale networks.
/// </summary>
public sealed partial class ParallelMlp : Conditioner, Kernels.IFusableNetwork
{
    private static readonly Scalar One = 1.0.ToScalar();
    private readonly ParameterList weights;
    private readonly ParameterList biases;
    private readonly Activation activation;

    /// <summary>Creates <paramref name="parts"/> MLPs <c>in (+ context) -&gt; hidden... -&gt; outFeatures</c>.</summary>
    /// <param name="parts">Number of networks; at least 1.</param>
    /// <param name="inFeatures">Input width of each network (without the context).</param>
    /// <param name="outFeatures">Output width of each network; the conditioner gives <c>outFeatures * parts</c>.</param>
    /// <param name="hiddenFeatures">Hidden widths, shared by all networks.</param>
    /// <param name="contextFeatures">Context width appended to the input; 0 for none.</param>
    /// <param name="activation">Activation between layers.</param>
    /// <param name="zeroInitialOutput">Start every network's last layer at zero weights and bias (a fresh coupling is the identity).</param>
    /// <param name="generator">Generator for the initial weights; null uses TorchSharp's default generator.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or width is out of range.</exception>
    public ParallelMlp(int parts, int inFeatures, int outFeatures, IReadOnlyList<int> hiddenFeatures, int contextFeatures = 0,
        Activation activation = Activation.Relu, bool zeroInitialOutput = true, Generator? generator = null)
        : base(nameof(ParallelMlp), inFeatures, outFeatures * CheckParts(parts), contextFeatures)
    {
        Guard.HiddenWidths(hiddenFeatures, nameof(hiddenFeatures));
        Guard.Defined(activation, nameof(activation));
        Parts = parts;
        PartOutFeatures = outFeatures;
        HiddenFeatures = hiddenFeatures.ToArray();
        this.activation = activation;
        var widths = new List<int> { inFeatures + contextFeatures };
        widths.AddRange(hiddenFeatures);
        widths.Add(outFeatures);
        int layers = widths.Count - 1;
        var w = new Tensor[layers];
        var b = new Tensor[layers];
        using (torch.no_grad())
        {
            for (int i = 0; i < layers; i++)
            {
                w[i] = torch.empty(parts, widths[i + 1], widths[i]).DetachFromDisposeScope();
                b[i] = torch.empty(parts, widths[i + 1]).DetachFromDisposeScope();
            }
            // Network after network, layer after layer, weight before bias: the draws of Mlp's constructor.
            for (int p = 0; p < parts; p++)
            {
                for (int i = 0; i < layers; i++)
                {
                    using var weight = w[i].select(0, p);
                    using var bias = b[i].select(0, p);
                    if (i == layers - 1 && zeroInitialOutput)
                    {
                        weight.zero_();
                        bias.zero_();
                    }
                    else
                    {
                        double bound = 1.0 / Math.Sqrt(widths[i]);
                        weight.uniform_(-bound, bound, generator);
                        bias.uniform_(-bound, bound, generator);
                    }
                }
            }
        }
        weights = new ParameterList(w.Select(t => new Parameter(t)).ToArray());
        biases = new ParameterList(b.Select(t => new Parameter(t)).ToArray());
        RegisterComponents();
    }

    /// <summary>Number of networks.</summary>
    public int Parts { get; }

    /// <summary>Output width of each network (<see cref="Conditioner.OutFeatures"/> is this times <see cref="Parts"/>).</summary>
    public int PartOutFeatures { get; }

    /// <summary>Hidden widths of every network.</summary>
    public IReadOnlyList<int> HiddenFeatures { get; }

    /// <summary>Activation between layers.</summary>
    public Activation Activation => activation;

    /// <inheritdoc />
    Kernels.NetworkDescription Kernels.IFusableNetwork.DescribeForKernels() =>
        new(InFeatures, HiddenFeatures, PartOutFeatures, Parts, ContextFeatures, activation,
            () => Enumerable.Range(0, weights.Count).SelectMany(l => new Tensor[] { weights[l], biases[l] }).ToArray());

    /// <summary>Returns <c>[batch, PartOutFeatures * Parts]</c>: output <c>j</c> of network <c>p</c> at column <c>j * Parts + p</c>.</summary>
    /// <param name="x">Input of shape <c>[batch, InFeatures]</c>.</param>
    /// <param name="context">Context of shape <c>[batch, ContextFeatures]</c>, or null.</param>
    public override Tensor forward(Tensor x, Tensor? context)
    {
        var input = context is null ? x : InFeatures == 0 ? context : torch.cat(new[] { x, context }, 1);
        long rows = input.size(0);
        // First layer: the one input is shared by every network, [1, batch, in] x [parts, in, out] -> [parts, batch, out].
        var firstWeight = weights[0].transpose(1, 2);
        var firstBias = biases[0].unsqueeze(1);
        var h = input.size(1) == 1 && !torch.is_grad_enabled()
            ? torch.addcmul(firstBias, input.unsqueeze(0), firstWeight, One)
            : input.unsqueeze(0).matmul(firstWeight).add_(firstBias, Scalars.One);
        for (int i = 1; i < weights.Count; i++)
        {
            h = Activations.ApplyToFresh(activation, h);
            // bmm then add_: TorchSharp 0.107's baddbmm binding does not compute input + batch1 @ batch2 (shape errors).
            h = h.bmm(weights[i].transpose(1, 2)).add_(biases[i].unsqueeze(1), Scalars.One);
        }
        return h.permute(1, 2, 0).reshape(rows, OutFeatures);
    }

    private static int CheckParts(int parts) =>
        parts >= 1 ? parts : throw new ArgumentOutOfRangeException(nameof(parts), parts, $"parts must be at least 1; got {parts}.");
}
