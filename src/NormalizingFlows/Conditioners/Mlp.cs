using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Conditioners;

/// <summary>
/// A fully connected network: <c>[x, context] -> hidden -> ... -> out</c>, the nonlinearity after every
/// hidden layer. The last layer starts at zero by default, so that a fresh coupling is exactly the identity.
/// </summary>
public sealed partial class Mlp : Conditioner, Kernels.IFusableNetwork
{
    private readonly ModuleList<Linear> layers;
    private readonly Activation activation;
    private static readonly Scalar One = 1.0.ToScalar();

    /// <summary>Creates the network.</summary>
    /// <param name="inFeatures">Width of the conditioning input.</param>
    /// <param name="outFeatures">Width of the output.</param>
    /// <param name="hiddenFeatures">Widths of the hidden layers, e.g. <c>[64, 64]</c>; may be empty.</param>
    /// <param name="contextFeatures">Width of the context appended to the input; 0 for none.</param>
    /// <param name="activation">Nonlinearity after every hidden layer.</param>
    /// <param name="zeroInitialOutput">Start the last layer at zero weights and bias.</param>
    /// <param name="generator">Generator for the initial weights; null uses TorchSharp's default generator.</param>
    public Mlp(int inFeatures, int outFeatures, IReadOnlyList<int> hiddenFeatures, int contextFeatures = 0,
        Activation activation = Activation.Relu, bool zeroInitialOutput = true, Generator? generator = null)
        : base(nameof(Mlp), inFeatures, outFeatures, contextFeatures)
    {
        Guard.HiddenWidths(hiddenFeatures, nameof(hiddenFeatures));
        Guard.Defined(activation, nameof(activation));
        this.activation = activation;
        var widths = new List<int> { inFeatures + contextFeatures };
        widths.AddRange(hiddenFeatures);
        widths.Add(outFeatures);
        var linears = new Linear[widths.Count - 1];
        using (torch.no_grad())
        {
            for (int i = 0; i < linears.Length; i++)
            {
                linears[i] = nn.Linear(widths[i], widths[i + 1]);
                bool last = i == linears.Length - 1;
                double bound = 1.0 / Math.Sqrt(widths[i]);
                if (last && zeroInitialOutput)
                {
                    linears[i].weight!.zero_();
                    linears[i].bias!.zero_();
                }
                else
                {
                    linears[i].weight!.uniform_(-bound, bound, generator);
                    linears[i].bias!.uniform_(-bound, bound, generator);
                }
            }
        }
        layers = nn.ModuleList(linears);
        HiddenFeatures = hiddenFeatures.ToArray();
        RegisterComponents();
    }

    /// <summary>Widths of the hidden layers.</summary>
    public IReadOnlyList<int> HiddenFeatures { get; }

    /// <summary>The nonlinearity after every hidden layer.</summary>
    public Activation Activation => activation;

    /// <inheritdoc />
    Kernels.NetworkDescription Kernels.IFusableNetwork.DescribeForKernels() =>
        new(InFeatures, HiddenFeatures, OutFeatures, 1, ContextFeatures, activation, () => layers.SelectMany(l => new Tensor[] { l.weight!, l.bias! }).ToArray());

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor? context)
    {
        var h = context is null ? x : InFeatures == 0 ? context : torch.cat(new[] { x, context }, 1);
        for (int i = 0; i < layers.Count - 1; i++)
            h = Activations.ApplyToFresh(activation, Affine(layers[i], h));
        return Affine(layers[layers.Count - 1], h);
    }

    /// <summary><c>h W^T + b</c>. With one input feature that is an outer product, which libtorch's matrix multiply handles
    /// several times slower than the equivalent elementwise <c>b + h * W^T</c> on large batches; so evaluation without
    /// gradients uses the latter. (With gradients the elementwise form's backward, two broadcast reductions, costs more than it
    /// saves: measured about 7 % slower training steps at 512 rows.)</summary>
    private static Tensor Affine(Linear layer, Tensor h)
    {
        if (h.size(1) == 1 && !torch.is_grad_enabled()) return torch.addcmul(layer.bias!, h, layer.weight!.t(), One);
        return nn.functional.linear(h, layer.weight!, layer.bias);
    }
}
