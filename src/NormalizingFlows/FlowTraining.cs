namespace NormalizingFlows;

/// <summary>How a preset's flow is meant to be trained on data (<see cref="FlowPreset.Training"/>).</summary>
public enum FlowTraining
{
    /// <summary>Maximum likelihood: <see cref="Training.Fit"/>'s <c>ToData</c>.</summary>
    MaximumLikelihood,

    /// <summary>Conditional flow matching: <see cref="Training.Fit"/>'s <c>FlowMatching</c> (continuous flows only).</summary>
    FlowMatching,
}
