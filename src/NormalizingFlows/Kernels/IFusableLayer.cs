namespace NormalizingFlows.Kernels;

/// <summary>A layer that tells the fused-kernel planner (<see cref="FusionPlanner"/>) what it is: a <see cref="LayerDescription"/>
/// of its widths, kind and weight tensors, so that the kernels never test its type or read accessors of their own.</summary>
internal interface IFusableLayer
{
    /// <summary>What the layer is, for the planner; null where no kernel covers it.</summary>
    LayerDescription? DescribeForKernels();
}

/// <summary>A conditioner network that tells the planner its shape and weights (<see cref="NetworkDescription"/>).</summary>
internal interface IFusableNetwork
{
    /// <summary>The network's shape and weights, for the planner; null where no kernel covers it.</summary>
    NetworkDescription? DescribeForKernels();
}

/// <summary>An elementwise transform that tells the planner which map it is (<see cref="TransformDescription"/>).</summary>
internal interface IFusableTransform
{
    /// <summary>The transform's map and trained tensors, for the planner; null where no kernel computes this map.</summary>
    TransformDescription? DescribeForKernels();
}
