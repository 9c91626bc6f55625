using System;
using System.Linq;
using System.Threading;
using NormalizingFlows.Targets;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Cli.Fitting;

/// <summary>Picks the fit a catalogue preset is trained with on data: maximum likelihood (<see cref="Fit.ToData(Distribution, Tensor, FitOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>)
/// or flow matching (<see cref="Fit.FlowMatching(Flow, Tensor, FitOptions?, FlowMatchingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>),
/// as <see cref="FlowPreset.Training"/> says.</summary>
internal static class FlowFitting
{
    /// <summary>Whether the catalogue preset of this name is trained by flow matching (false for names that are not presets).</summary>
    public static bool IsFlowMatching(string flowName) =>
        FlowCatalog.All.FirstOrDefault(p => string.Equals(p.Name, flowName, StringComparison.OrdinalIgnoreCase))?.Training == FlowTraining.FlowMatching;

    /// <summary>Fits <paramref name="flow"/> to fresh samples of <paramref name="target"/>.</summary>
    public static FitResult ToTarget(string flowName, Flow flow, ITarget target, FitOptions options, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken) =>
        IsFlowMatching(flowName)
            ? Fit.FlowMatching(flow, target, options, null, progress, cancellationToken)
            : Fit.ToData(flow, target, options, progress, cancellationToken);

    /// <summary>Fits <paramref name="flow"/> to in-memory rows.</summary>
    public static FitResult ToRows(string flowName, Flow flow, Tensor data, FitOptions options, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken) =>
        IsFlowMatching(flowName)
            ? Fit.FlowMatching(flow, data, options, null, progress, cancellationToken)
            : Fit.ToData(flow, data, options, progress, cancellationToken);
}
