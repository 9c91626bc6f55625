using System;
using static TorchSharp.torch;

namespace NormalizingFlows.Kernels;

/// <summary>What an elementwise transform tells the planner (<see cref="IFusableTransform"/>): an affine map whose log-scale comes
/// from the raw network output by <see cref="LogScale"/>.</summary>
/// <param name="LogScale">How the log-scale is formed.</param>
/// <param name="Bound">The fixed bound of <see cref="LogScaleKind.FixedBound"/>; 0 otherwise.</param>
/// <param name="Weights">The transform's current trained tensors: the log-bound for <see cref="LogScaleKind.LearnedBound"/>,
/// else none.</param>
internal sealed record TransformDescription(LogScaleKind LogScale, double Bound, Func<Tensor[]> Weights);
