namespace NormalizingFlows.Training;

/// <summary>The optimizer a fit uses.</summary>
public enum OptimizerKind
{
    /// <summary>Adam; weight decay is added to the gradient (L2 penalty), as PyTorch's Adam does.</summary>
    Adam,
    /// <summary>AdamW; weight decay is decoupled from the gradient.</summary>
    AdamW,
}
