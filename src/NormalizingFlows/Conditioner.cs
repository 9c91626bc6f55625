using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

/// <summary>
/// A network that maps the features a layer conditions on (and an optional context) to the parameters
/// of the transform it applies: input <c>[batch, InFeatures]</c>, context <c>[batch, ContextFeatures]</c>,
/// output <c>[batch, OutFeatures]</c>.
/// </summary>
public abstract partial class Conditioner : nn.Module<Tensor, Tensor?, Tensor>
{
    /// <summary>Creates a conditioner with the given widths.</summary>
    protected Conditioner(string name, int inFeatures, int outFeatures, int contextFeatures) : base(name)
    {
        if (inFeatures < 0) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, $"inFeatures must be 0 or more; got {inFeatures}.");
        if (outFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, $"outFeatures must be at least 1; got {outFeatures}.");
        if (contextFeatures < 0) throw new ArgumentOutOfRangeException(nameof(contextFeatures), contextFeatures, $"contextFeatures must be 0 or more; got {contextFeatures}.");
        if (inFeatures + contextFeatures == 0) throw new ArgumentException("A conditioner needs inputs or a context; both widths are 0.", nameof(inFeatures));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        ContextFeatures = contextFeatures;
    }

    /// <summary>Width of the conditioning input.</summary>
    public int InFeatures { get; }

    /// <summary>Width of the output (number of transform parameters).</summary>
    public int OutFeatures { get; }

    /// <summary>Width of the context; 0 for none.</summary>
    public int ContextFeatures { get; }

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        try { return base._to(device, dtype, non_blocking); }
        finally { PlacementCache.Invalidate(); }
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        try { return base._to(deviceType, deviceIndex, non_blocking); }
        finally { PlacementCache.Invalidate(); }
    }

    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        try { return base._to(dtype, non_blocking); }
        finally { PlacementCache.Invalidate(); }
    }
}
