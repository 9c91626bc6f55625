using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Distributions;
using NormalizingFlows.Internal;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

public static partial class Flows
{
    private static readonly int[] LeakyCouplingHidden = { 4 };

    /// <summary>
    /// NICE (Dinh et al., "NICE: Non-linear independent components estimation", 2015): <paramref name="layers"/> additive
    /// couplings with alternating masks (MLP conditioners, last layer zero) and a learnable elementwise <see cref="Scale"/>, on a
    /// standard normal base. The scale sits next to the base, as the paper's top layer (the last one in the data-to-base
    /// direction), and carries the whole log-determinant: the couplings preserve volume. Starts as the identity.
    /// </summary>
    /// <param name="features">Number of dimensions (at least 2).</param>
    /// <param name="layers">Number of additive coupling layers (the paper uses 4).</param>
    /// <param name="hiddenFeatures">Hidden widths of each conditioner; null for [64, 64].</param>
    /// <param name="seed">Seed for the initial weights.</param>
    /// <param name="contextFeatures">Width of a context every conditioner also sees; 0 for none.</param>
    public static Flow Nice(int features = 2, int layers = 4, IReadOnlyList<int>? hiddenFeatures = null, long seed = 0, int contextFeatures = 0)
    {
        Guard.Positive(layers, nameof(layers));
        using var generator = new Generator((ulong)seed);
        var chain = new List<Bijector>(layers + 1) { new Scale(features) };
        for (int i = 0; i < layers; i++)
        {
            var mask = Masks.Alternating(features, i % 2 == 0 ? 1 : 0);
            chain.Add(Coupling.WithMlp(mask, hiddenFeatures ?? DefaultHidden, contextFeatures, AdditiveTransform.Instance, generator: generator));
        }
        return new Flow(new StandardNormal(features), new Chain(chain));
    }

    /// <summary>
    /// The second source tutorial's flow: <paramref name="layers"/> x [<see cref="LearnableLeakyRelu"/> (one shared slope,
    /// starting at log 2 + 0.001) + affine coupling with a <see cref="TanhBoundedAffineTransform"/> (log-scale
    /// <c>c tanh(u / c)</c>, learnable bound c starting at 1)], masks alternating from one layer to the next, on a standard
    /// normal base. Each conditioner is Linear(in, hidden) - tanh - Linear(hidden, 2 x transformed), last layer zero.
    /// The tutorial trains it with AdamW (<see cref="Training.OptimizerKind.AdamW"/>).
    /// </summary>
    /// <param name="features">Number of dimensions (at least 2).</param>
    /// <param name="layers">Number of [leaky ReLU + coupling] steps.</param>
    /// <param name="hiddenFeatures">Hidden widths of each conditioner; null for [4], the tutorial's.</param>
    /// <param name="seed">Seed for the initial weights.</param>
    /// <param name="contextFeatures">Width of a context every conditioner also sees; 0 for none.</param>
    public static Flow LeakyCoupling(int features = 2, int layers = 9, IReadOnlyList<int>? hiddenFeatures = null, long seed = 0, int contextFeatures = 0)
    {
        Guard.Positive(layers, nameof(layers));
        using var generator = new Generator((ulong)seed);
        var chain = new List<Bijector>(2 * layers);
        for (int i = 0; i < layers; i++)
        {
            var mask = Masks.Alternating(features, i % 2 == 0 ? 1 : 0);
            int transformed = mask.Count(m => m);
            var net = new Mlp(features - transformed, 2 * transformed, hiddenFeatures ?? LeakyCouplingHidden, contextFeatures, Activation.Tanh, generator: generator);
            chain.Add(new LearnableLeakyRelu(features));
            chain.Add(new Coupling(mask, net, new TanhBoundedAffineTransform(transformed)));
        }
        return new Flow(new StandardNormal(features), new Chain(chain));
    }
}
