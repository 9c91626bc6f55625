using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Conditioners;

/// <summary>
/// MADE, a masked autoencoder for distribution estimation (Germain, Gregor, Murray and Larochelle, 2015): a fully connected
/// network whose weights are masked so that the parameters of feature <c>i</c> depend only on the features before <c>i</c>
/// in an autoregressive order (and on the context, which every first-layer unit sees).
/// Input <c>[batch, Features]</c> (+ context <c>[batch, ContextFeatures]</c>), output <c>[batch, Features * ParametersPerFeature]</c>
/// laid out feature by feature, so that <c>.view(batch, Features, ParametersPerFeature)</c> gives what an
/// <see cref="IElementwiseTransform"/> expects.
/// </summary>
/// <remarks>
/// <para>Degrees: feature <c>i</c> has rank <c>Order[i]</c> in <c>0 .. D-1</c>. Hidden units get degrees cycling through
/// <c>1 .. D-1</c> (through <c>0 .. D-1</c> with a context, so that the first feature in the order can depend on the context);
/// a unit of degree <c>m</c> sees the features of rank below <c>m</c> and the units of the previous layer of degree at most
/// <c>m</c>; the outputs of feature <c>i</c> see the last hidden units of degree at most <c>Order[i]</c>. Hence
/// <c>d output_i / d x_j = 0</c> unless <c>Order[j] &lt; Order[i]</c>: the Jacobian is strictly lower triangular in the order.
/// Hidden layers narrower than the number of degrees leave some connections out (valid, but less expressive).</para>
/// <para>Residual: the first layer maps the input to the hidden width, then each further entry of <c>hiddenFeatures</c> adds a
/// pre-activation residual block <c>h + W2 act(W1 act(h))</c> of two masked layers (all hidden widths must be equal).</para>
/// <para>The output layer starts at zero (weights and bias), so a fresh autoregressive layer is the identity.</para>
/// </remarks>
public sealed partial class Made : Conditioner, Kernels.IFusableNetwork
{
    private readonly ModuleList<MaskedLinear> layers;
    private readonly Activation activation;
    private readonly int[] order;
    private readonly int[][] unitDegrees;

    /// <summary>Creates the network.</summary>
    /// <param name="features">Number of features <c>D</c> (at least 1).</param>
    /// <param name="parametersPerFeature">Outputs per feature (the transform's <see cref="IElementwiseTransform.ParametersPerFeature"/>).</param>
    /// <param name="hiddenFeatures">Hidden widths, e.g. <c>[64, 64]</c> (at least one; equal widths when <paramref name="residual"/>).</param>
    /// <param name="contextFeatures">Width of the context every first-layer unit sees; 0 for none.</param>
    /// <param name="order">Rank of each feature in the autoregressive order (a permutation of <c>0 .. D-1</c>); null for the natural
    /// order <c>0, 1, ..., D-1</c>. <see cref="ReversedOrder"/> gives the reverse, for alternating stacked layers.</param>
    /// <param name="residual">Use residual blocks after the first hidden layer.</param>
    /// <param name="activation">Hidden nonlinearity.</param>
    /// <param name="generator">Generator for the initial weights; null uses TorchSharp's default generator.</param>
    /// <exception cref="ArgumentException">An argument is invalid (the message names it and its value).</exception>
    public Made(int features, int parametersPerFeature, IReadOnlyList<int> hiddenFeatures, int contextFeatures = 0,
        IReadOnlyList<int>? order = null, bool residual = false, Activation activation = Activation.Relu, Generator? generator = null)
        : base(nameof(Made), CheckFeatures(features), OutputWidth(features, parametersPerFeature), contextFeatures)
    {
        ArgumentNullException.ThrowIfNull(hiddenFeatures);
        if (hiddenFeatures.Count == 0)
            throw new ArgumentException("MADE needs at least one hidden layer; got an empty hiddenFeatures.", nameof(hiddenFeatures));
        Guard.HiddenWidths(hiddenFeatures, nameof(hiddenFeatures));
        if (residual && hiddenFeatures.Any(w => w != hiddenFeatures[0]))
            throw new ArgumentException(
                $"Residual blocks need equal hidden widths; got [{string.Join(", ", hiddenFeatures)}].", nameof(hiddenFeatures));
        Guard.Defined(activation, nameof(activation));
        this.order = CheckOrder(order, features);
        this.activation = activation;
        Features = features;
        ParametersPerFeature = parametersPerFeature;
        HiddenFeatures = hiddenFeatures.ToArray();
        Residual = residual;

        // Degrees: inputs have their rank; hidden units cycle through [lowest, D - 1]; context columns are seen by everyone.
        int lowest = contextFeatures > 0 || features == 1 ? 0 : 1;
        int[] HiddenDegrees(int width) => Enumerable.Range(0, width).Select(k => lowest + k % (features - lowest)).ToArray();
        var linears = new List<MaskedLinear>();
        var degrees = new List<int[]>();
        var first = HiddenDegrees(hiddenFeatures[0]);
        linears.Add(new MaskedLinear(InputMask(first, this.order, contextFeatures), zero: false, generator));
        degrees.Add(first);
        var previous = first;
        int further = hiddenFeatures.Count - 1;
        for (int i = 0; i < further; i++)
        {
            var next = HiddenDegrees(hiddenFeatures[i + 1]);
            linears.Add(new MaskedLinear(HiddenMask(previous, next), zero: false, generator));
            degrees.Add(next);
            // A residual block has a second layer; equal widths give equal degrees, so h + W2 act(W1 act(h)) stays masked.
            if (residual)
            {
                linears.Add(new MaskedLinear(HiddenMask(next, next), zero: false, generator));
                degrees.Add(next);
            }
            previous = next;
        }
        linears.Add(new MaskedLinear(OutputMask(previous, this.order, parametersPerFeature), zero: true, generator));
        layers = nn.ModuleList(linears.ToArray());
        unitDegrees = degrees.ToArray();
        RegisterComponents();
    }

    /// <summary>Number of features <c>D</c>.</summary>
    public int Features { get; }

    /// <summary>Outputs per feature.</summary>
    public int ParametersPerFeature { get; }

    /// <summary>Rank of each feature in the autoregressive order.</summary>
    public IReadOnlyList<int> Order => order;

    /// <summary>Hidden widths.</summary>
    public IReadOnlyList<int> HiddenFeatures { get; }

    /// <summary>Whether the hidden layers after the first are residual blocks.</summary>
    public bool Residual { get; }

    /// <summary>The hidden nonlinearity.</summary>
    public Activation Activation => activation;

    /// <summary>The natural order <c>0, 1, ..., D-1</c>.</summary>
    public static int[] NaturalOrder(int features)
    {
        Guard.Features(features, nameof(features));
        return Enumerable.Range(0, features).ToArray();
    }

    /// <summary>The reversed order: feature <c>i</c> has rank <c>D - 1 - i</c>.</summary>
    public static int[] ReversedOrder(int features)
    {
        Guard.Features(features, nameof(features));
        return Enumerable.Range(0, features).Select(i => features - 1 - i).ToArray();
    }

    /// <inheritdoc />
    /// <remarks>Without residual blocks the network is a plain fully connected one whose weights are the masked ones: it reads
    /// every feature (then the context) and gives <c>Features * ParametersPerFeature</c> outputs, feature by feature. The
    /// weights are the masked products, made at each call in the caller's dispose scope. Residual blocks: null.</remarks>
    Kernels.NetworkDescription? Kernels.IFusableNetwork.DescribeForKernels() => Residual ? null
        : new(Features, HiddenFeatures, OutFeatures, 1, ContextFeatures, activation,
            () => layers.SelectMany(l => new[] { l.MaskedWeight(), (Tensor)l.Bias }).ToArray());

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor? context)
    {
        var h = context is null ? x : torch.cat(new[] { x, context }, 1);
        h = layers[0].call(h);
        if (!Residual)
        {
            // Each hidden layer's product is fresh and read only by its activation: activate it in place (see
            // Activations.ApplyToFresh), one allocation and one pass over memory fewer per layer.
            for (int i = 1; i < layers.Count; i++) h = layers[i].call(Activations.ApplyToFresh(activation, h));
            return h;
        }
        for (int i = 1; i < layers.Count - 1; i += 2)
        {
            var next = layers[i].call(Activations.Apply(activation, h));
            h = h.add(layers[i + 1].call(Activations.Apply(activation, next)), Scalars.One);
        }
        return layers[^1].call(Activations.Apply(activation, h));
    }

    private static int CheckFeatures(int features)
    {
        Guard.Features(features, nameof(features));
        return features;
    }

    private static int OutputWidth(int features, int parametersPerFeature)
    {
        Guard.Features(features, nameof(features));
        if (parametersPerFeature < 1)
            throw new ArgumentOutOfRangeException(nameof(parametersPerFeature), parametersPerFeature, $"parametersPerFeature must be at least 1; got {parametersPerFeature}.");
        return checked(features * parametersPerFeature);
    }

    private static int[] CheckOrder(IReadOnlyList<int>? order, int features)
    {
        if (order is null) return NaturalOrder(features);
        if (order.Count != features)
            throw new ArgumentException($"Expected an order of {features} ranks (one per feature); got {order.Count}.", nameof(order));
        var seen = new bool[features];
        for (int i = 0; i < features; i++)
        {
            int rank = order[i];
            if (rank < 0 || rank >= features || seen[rank])
                throw new ArgumentException($"order must be a permutation of 0..{features - 1}; entry {i} is {rank}.", nameof(order));
            seen[rank] = true;
        }
        return order.ToArray();
    }

    /// <summary>[hidden, features + context]: unit of degree m sees feature j when rank(j) &lt; m, and every context column.</summary>
    private static float[,] InputMask(int[] degrees, int[] order, int contextFeatures)
    {
        var mask = new float[degrees.Length, order.Length + contextFeatures];
        for (int h = 0; h < degrees.Length; h++)
        {
            for (int j = 0; j < order.Length; j++) mask[h, j] = order[j] < degrees[h] ? 1f : 0f;
            for (int c = 0; c < contextFeatures; c++) mask[h, order.Length + c] = 1f;
        }
        return mask;
    }

    /// <summary>[next, previous]: a unit sees the previous units of degree at most its own.</summary>
    private static float[,] HiddenMask(int[] previous, int[] next)
    {
        var mask = new float[next.Length, previous.Length];
        for (int a = 0; a < next.Length; a++)
            for (int b = 0; b < previous.Length; b++)
                mask[a, b] = previous[b] <= next[a] ? 1f : 0f;
        return mask;
    }

    /// <summary>[features * parameters, hidden]: the outputs of feature i see the units of degree at most rank(i).</summary>
    private static float[,] OutputMask(int[] degrees, int[] order, int parametersPerFeature)
    {
        var mask = new float[order.Length * parametersPerFeature, degrees.Length];
        for (int i = 0; i < order.Length; i++)
            for (int k = 0; k < parametersPerFeature; k++)
                for (int h = 0; h < degrees.Length; h++)
                    mask[i * parametersPerFeature + k, h] = degrees[h] <= order[i] ? 1f : 0f;
        return mask;
    }

    /// <summary>A linear layer whose weight is multiplied by a fixed 0/1 mask.</summary>
    private sealed partial class MaskedLinear : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter weight;
        private readonly Parameter bias;
        private readonly Tensor mask;

        public MaskedLinear(float[,] mask, bool zero, Generator? generator) : base(nameof(MaskedLinear))
        {
            int outFeatures = mask.GetLength(0), inFeatures = mask.GetLength(1);
            this.mask = torch.tensor(mask).DetachFromDisposeScope();
            var w = torch.empty(outFeatures, inFeatures);
            var b = torch.empty(outFeatures);
            using (torch.no_grad())
            {
                if (zero)
                {
                    w.zero_();
                    b.zero_();
                }
                else
                {
                    double bound = 1.0 / Math.Sqrt(inFeatures);
                    w.uniform_(-bound, bound, generator);
                    b.uniform_(-bound, bound, generator);
                }
            }
            weight = new Parameter(w.DetachFromDisposeScope());
            bias = new Parameter(b.DetachFromDisposeScope());
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => nn.functional.linear(x, weight.mul(mask), bias);

        /// <summary>The weight times the mask (a new tensor).</summary>
        public Tensor MaskedWeight() => weight.mul(mask);

        /// <summary>The bias.</summary>
        public Tensor Bias => bias;
    }
}
