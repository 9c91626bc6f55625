using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using NormalizingFlows.Data;
using NormalizingFlows.Distributions;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Benchmarks;

/// <summary>
/// <c>realdata tabular</c>: the RAND health insurance experiment table (statsmodels' randhie, 20190 rows, 10 numeric columns).
/// Every column is discrete (2 to 619 distinct values; the most common value of each holds 12% to 99% of the rows), so each is
/// put on a lattice of unit cells and dequantised uniformly: integer columns as they are, the others by the index of their
/// value among the column's sorted distinct values. A fixed-seed 70/15/15 split; a MAF and a neural spline autoregressive flow,
/// standardised on the training rows, against diagonal and full-covariance Gaussians; test negative log-likelihood in nats per
/// row (lower is better) of the dequantised rows, standardisation log-det included.
/// </summary>
internal static class TabularRun
{
    public static RealDataResult Execute(RealDataSettings settings)
    {
        var clock = Stopwatch.StartNew();
        torch.set_num_threads(settings.Threads);
        using var scope = torch.NewDisposeScope();
        using var table = TabularFile.Read(RealData.File(settings, "randhie.csv"), new TabularReadOptions { HasHeader = true, DType = ScalarType.Float64 });
        var (lattice, integerColumns, indexedColumns) = OnUnitLattice(table);
        using var noise = new Generator((ulong)settings.Seed + 3000);
        var data = lattice.add(torch.rand(lattice.shape, dtype: ScalarType.Float64, generator: noise)).to(ScalarType.Float32);
        long features = data.shape[1];
        var (split, pool, fraction, train, validation) = RealData.PoolAndSplit(data, settings.Seed);
        using var ownsTest = split;
        var test = split.Test;

        var options = new FitOptions
        {
            Epochs = settings.MaxEpochs(quick: 3, full: 100),
            BatchSize = 256,
            LearningRate = 1e-3,
            ClipGradientNorm = 50,
            Seed = settings.Seed,
            ValidationFraction = fraction,
            Patience = settings.Quick ? null : 10,
            ProgressInterval = 1_000_000,
        };
        var hidden = settings.Quick ? new[] { 64 } : new[] { 128, 128 };
        var scores = new List<ModelScore>();
        int width = (int)features;

        using var maf = Flows.Maf(width, layers: settings.Quick ? 2 : 5, hiddenFeatures: hidden, seed: settings.Seed).Standardized(train);
        var mafFit = RealData.TrainFlow(maf, pool, validation, options);
        scores.Add(RealData.FlowScore("maf", maf, mafFit, RealData.MeanNll(maf, test)));

        using var spline = Flows.NeuralSplineAutoregressive(width, layers: settings.Quick ? 2 : 5, hiddenFeatures: hidden, bins: 8, bound: 5.0, seed: settings.Seed)
            .Standardized(train);
        var splineFit = RealData.TrainFlow(spline, pool, validation, options);
        scores.Add(RealData.FlowScore("neural-spline-autoregressive", spline, splineFit, RealData.MeanNll(spline, test)));

        var (diagonal, diagonalSeconds) = RealData.Timed(() => DiagonalGaussian.FitTo(train));
        using (diagonal)
            scores.Add(RealData.BaselineScore("diagonal-gaussian", 2 * features, RealData.MeanNll(diagonal, validation), RealData.MeanNll(diagonal, test), diagonalSeconds));
        var (full, fullSeconds) = RealData.Timed(() => MultivariateGaussian.FitTo(train));
        using (full)
            scores.Add(RealData.BaselineScore("full-covariance-gaussian", features + features * (features + 1) / 2, RealData.MeanNll(full, validation),
                RealData.MeanNll(full, test), fullSeconds));

        return new RealDataResult("tabular", settings.Quick, settings.Seed, torch.get_num_threads(),
            "test negative log-likelihood in nats per row of the dequantised lattice data (lower is better)", features,
            train.shape[0], validation.shape[0], test.shape[0], scores,
            $"randhie.csv; integer columns dequantised as they are: {string.Join(", ", integerColumns)}; " +
            $"other columns replaced by the index of their value among the column's distinct values, then dequantised: {string.Join(", ", indexedColumns)}; " +
            "models standardised on training rows, NLL in lattice units with the standardisation log-det",
            Math.Round(clock.Elapsed.TotalSeconds, 1));
    }

    /// <summary>The table on a lattice of unit cells: integer columns unchanged, every other column replaced by the index of
    /// each value among the column's sorted distinct values (a one-to-one recoding of a discrete column).</summary>
    private static (Tensor Lattice, List<string> IntegerColumns, List<string> IndexedColumns) OnUnitLattice(TabularData table)
    {
        var values = table.Values;
        var columns = new List<Tensor>();
        var integer = new List<string>();
        var indexed = new List<string>();
        for (int c = 0; c < table.Columns; c++)
        {
            var column = values[TensorIndex.Colon, c];
            if (column.eq(column.round()).all().ToBoolean())
            {
                columns.Add(column);
                integer.Add($"{table.ColumnNames[c]} ({torch.unique(column).Item1.shape[0]} values)");
            }
            else
            {
                var (distinct, inverse, _) = torch.unique(column, sorted: true, return_inverse: true);
                columns.Add(inverse!.to(ScalarType.Float64));
                indexed.Add($"{table.ColumnNames[c]} ({distinct.shape[0]} values)");
            }
        }
        return (torch.stack(columns.ToArray(), 1), integer, indexed);
    }
}
