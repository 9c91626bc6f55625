using System;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Conditioners;

public sealed partial class Made
{
    private RankLayout? rankLayout;

    /// <summary>The network's hidden units sorted by degree and the features by rank (<see cref="RankLayout"/>), made once.</summary>
    internal RankLayout Layout => rankLayout ??= RankLayout.Of(this);

    /// <summary>
    /// Prepares the parameters of one feature at a time (<see cref="RankPasses.Parameters"/>), for a layer that fixes the features
    /// in the network's order one pass after another (sampling a masked autoregressive layer) on <paramref name="rows"/> rows: the
    /// masked weights with each layer's units sorted by degree and the input columns by rank, and the context's share of the first
    /// layer, computed once for all passes. The tensors belong to the caller's dispose scope.
    /// </summary>
    /// <param name="context">Context of shape <c>[rows, ContextFeatures]</c>, or null when the network takes none.</param>
    /// <param name="rows">Rows of every pass.</param>
    internal RankPasses BeginRankPasses(Tensor? context, long rows)
    {
        var layout = Layout;
        int count = layers.Count;
        var weights = new Tensor[count];
        var biases = new Tensor[count];
        var device = layers[0].Bias.device;
        Tensor? firstSorted = null;
        for (int l = 0; l < count; l++)
        {
            var weight = layers[l].MaskedWeight();
            var bias = layers[l].Bias;
            // Rows: this layer's units by degree (the output layer keeps its feature-by-feature rows).
            if (l < count - 1)
            {
                using var units = torch.tensor(layout.UnitOrder[l], device: device);
                weight = weight.index_select(0, units);
                bias = bias.index_select(0, units);
            }
            if (l == 0) firstSorted = weight;
            // Columns: the previous layer's units by degree; the first layer's features by rank.
            using var columns = torch.tensor(l == 0 ? layout.FeatureAtRank : layout.UnitOrder[l - 1], device: device);
            weights[l] = l == 0 ? weight.narrow(1, 0, Features).index_select(1, columns) : weight.index_select(1, columns);
            biases[l] = bias;
        }
        // The context reaches every first-layer unit in every pass: its share is the same for all of them.
        Tensor? first = null;
        if (context is not null)
        {
            first = nn.functional.linear(context, firstSorted!.narrow(1, Features, ContextFeatures), biases[0]);
        }
        return new RankPasses(this, layout, weights, biases, first, rows);
    }

    /// <summary>The units of every hidden layer sorted by degree, and how many have degree at most <c>k</c>: the parameters of the
    /// feature of rank <c>k</c> depend only on the first <c>UnitsUpTo[l][k]</c> sorted units of each layer <c>l</c> and on the
    /// features of rank below <c>k</c> (the masks allow no other path), so a pass computes that sub-network alone.</summary>
    internal sealed record RankLayout(long[][] UnitOrder, int[][] UnitsUpTo, long[] FeatureAtRank)
    {
        public static RankLayout Of(Made made)
        {
            int d = made.Features;
            var unitOrder = made.unitDegrees.Select(degrees =>
                Enumerable.Range(0, degrees.Length).OrderBy(u => degrees[u]).ThenBy(u => u).Select(u => (long)u).ToArray()).ToArray();
            var unitsUpTo = made.unitDegrees.Select(degrees =>
                Enumerable.Range(0, d).Select(k => degrees.Count(m => m <= k)).ToArray()).ToArray();
            var featureAtRank = new long[d];
            for (int i = 0; i < d; i++) featureAtRank[made.order[i]] = i;
            return new RankLayout(unitOrder, unitsUpTo, featureAtRank);
        }
    }

    /// <summary>One call's prepared sub-networks (see <see cref="BeginRankPasses"/>).</summary>
    internal sealed class RankPasses
    {
        private readonly Made made;
        private readonly RankLayout layout;
        private readonly Tensor[] weights;
        private readonly Tensor[] biases;
        private readonly Tensor? first;
        private readonly long rows;

        internal RankPasses(Made made, RankLayout layout, Tensor[] weights, Tensor[] biases, Tensor? first, long rows)
        {
            this.made = made;
            this.layout = layout;
            this.weights = weights;
            this.biases = biases;
            this.first = first;
            this.rows = rows;
        }

        /// <summary>The feature that has rank <paramref name="rank"/> in the network's order.</summary>
        public int FeatureAtRank(int rank) => (int)layout.FeatureAtRank[rank];

        /// <summary>The network's outputs for the feature of rank <paramref name="rank"/>, <c>[rows, ParametersPerFeature]</c>, from
        /// <paramref name="ranked"/>, <c>[rows, Features]</c>: the features in rank order, of which only the columns before
        /// <paramref name="rank"/> are read. Equal to the matching columns of the whole network's output.</summary>
        public Tensor Parameters(Tensor ranked, int rank)
        {
            var activation = made.activation;
            int units = layout.UnitsUpTo[0][rank];
            var bias = first is null ? biases[0].narrow(0, 0, units) : first.narrow(1, 0, units);
            var h = rank == 0
                ? bias.expand(rows, units)
                : torch.addmm(bias, ranked.narrow(1, 0, rank), weights[0].narrow(0, 0, units).narrow(1, 0, rank).t(), beta: 1f, alpha: 1f);
            int last = weights.Length - 1;
            int step = made.Residual ? 2 : 1;
            // Without residual connections every hidden product is fresh and read only by its activation, which then runs in place
            // (Activations.ApplyToFresh); not the first layer's at rank 0, a view of the biases (or of the context's share).
            Tensor Activate(Tensor hidden, bool fresh) => fresh && !made.Residual ? Activations.ApplyToFresh(activation, hidden) : Activations.Apply(activation, hidden);
            bool freshFirst = rank > 0;
            for (int l = 1; l < last; l += step)
            {
                int inputs = units;
                units = layout.UnitsUpTo[l][rank];
                var next = Linear(Activate(h, l > 1 || freshFirst), l, units, inputs);
                h = made.Residual ? h.add(Linear(Activations.Apply(activation, next), l + 1, units, units), Scalars.One) : next;
            }
            int p = made.ParametersPerFeature, feature = FeatureAtRank(rank);
            return nn.functional.linear(Activate(h, last > 1 || freshFirst),
                weights[last].narrow(0, feature * p, p).narrow(1, 0, units), biases[last].narrow(0, feature * p, p));
        }

        private Tensor Linear(Tensor input, int layer, int units, int inputs) =>
            nn.functional.linear(input, weights[layer].narrow(0, 0, units).narrow(1, 0, inputs), biases[layer].narrow(0, 0, units));
    }
}
