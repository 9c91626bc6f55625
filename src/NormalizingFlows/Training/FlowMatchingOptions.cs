using System;

namespace NormalizingFlows.Training;

/// <summary>Settings of conditional flow matching (<see cref="Fit.FlowMatching(Flow, TorchSharp.torch.Tensor, FitOptions?, FlowMatchingOptions?, IProgress{TrainingProgress}?, System.Threading.CancellationToken)"/>).</summary>
public sealed record FlowMatchingOptions
{
    /// <summary>Pair each batch's noise with its data by exact optimal transport (squared Euclidean cost, the Hungarian method
    /// on the batch: <c>O(batch^3)</c> per step) before drawing the paths, as Tong et al. (2023): straighter paths, fewer solver
    /// steps afterwards. Off by default; not for conditional flows (pairing across contexts would bias the base).</summary>
    public bool OptimalTransport { get; init; }

    /// <summary>Standard deviation <c>sigma</c> of Gaussian noise around the straight path, <c>x_t = (1 - t) x0 + t x1 + sigma e</c>
    /// (the target velocity stays <c>x1 - x0</c>); 0 (the default) is the rectified-flow path of Lipman et al. and Liu et al.</summary>
    public double PathNoise { get; init; }

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">PathNoise is negative or not finite.</exception>
    public void Validate()
    {
        if (!(PathNoise >= 0) || !double.IsFinite(PathNoise))
            throw new ArgumentOutOfRangeException(nameof(PathNoise), PathNoise, $"PathNoise must be 0 or more and finite; got {PathNoise}.");
    }
}
