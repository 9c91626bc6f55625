using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

public static partial class Fit
{
    /// <summary>
    /// How a fit to in-memory data (<see cref="ToData(Distribution, Tensor, FitOptions?, IProgress{TrainingProgress}?, System.Threading.CancellationToken)"/>)
    /// divides <paramref name="rows"/> rows: <c>round(rows * validationFraction)</c> validation rows (0 when the fraction is 0),
    /// the rest for training.
    /// </summary>
    /// <param name="rows">Rows of the data set; at least 1.</param>
    /// <param name="validationFraction">As <see cref="FitOptions.ValidationFraction"/>, in [0, 1).</param>
    /// <returns>The training and validation row counts.</returns>
    /// <exception cref="ArgumentException">A positive fraction leaves no validation row or no training row.</exception>
    public static (long Training, long Validation) SplitSizes(long rows, double validationFraction)
    {
        Guard.Positive(rows, nameof(rows));
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, $"validationFraction must be in [0, 1); got {validationFraction}.");
        if (validationFraction == 0) return (rows, 0);
        long held = (long)Math.Round(rows * validationFraction);
        if (held < 1 || held >= rows)
            throw new ArgumentException(
                $"ValidationFraction {validationFraction} of {rows} rows leaves {held} validation and {rows - held} training rows; both need at least one.", nameof(validationFraction));
        return (rows - held, held);
    }

    /// <summary>
    /// The rows a fit to <paramref name="data"/> with <paramref name="options"/> trains on and the rows it holds out for validation,
    /// exactly as the fit splits them (the same permutation, drawn from a generator seeded <see cref="FitOptions.Seed"/>): for
    /// evaluating a fitted model on its training rows only, or on its validation rows.
    /// </summary>
    /// <param name="data">The data set handed to the fit, <c>[rows, ...]</c>. Not disposed.</param>
    /// <param name="options">The fit's options (only <see cref="FitOptions.ValidationFraction"/> and <see cref="FitOptions.Seed"/> matter).</param>
    /// <returns>Fresh tensors on the device of <paramref name="data"/>, the caller owns them: the training rows and the validation rows
    /// (<c>[0, ...]</c> without a validation split), in the order the fit holds them.</returns>
    /// <exception cref="ArgumentException"><paramref name="data"/> is 0-D or empty, or the fraction leaves no validation or no training row.</exception>
    public static (Tensor Training, Tensor Validation) SplitRows(Tensor data, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (data.dim() == 0 || data.size(0) == 0)
            throw new ArgumentException($"Expected data with shape [rows, ...] and at least one row; got {Guard.Shape(data.shape)}.", nameof(data));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (training, validation) = SplitIndices(data.size(0), options, data.device);
        return scope.MoveToOuter(data.index_select(0, training), data.index_select(0, validation));
    }

    /// <summary>The row indices of the split (training, validation), in the caller's scope; the one place the split is drawn.</summary>
    internal static (Tensor Training, Tensor Validation) SplitIndices(long rows, FitOptions options, Device device)
    {
        var (trainingCount, held) = SplitSizes(rows, options.ValidationFraction);
        if (held == 0)
        {
            using var end = rows.ToScalar();
            return (torch.arange(Scalars.Zero, end, Scalars.One, ScalarType.Int64, device), torch.empty(0, ScalarType.Int64, device: device));
        }
        using var splitGenerator = new Generator((ulong)options.Seed);
        var permutation = torch.randperm(rows, ScalarType.Int64, generator: splitGenerator).to(device);
        return (permutation.narrow(0, held, trainingCount), permutation.narrow(0, 0, held));
    }
}
