using System;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows;

/// <summary>
/// A network that maps the part of an image a layer conditions on (and an optional context) to the parameters of the
/// transform it applies, pixel by pixel: input <c>[batch, InChannels, height, width]</c>, context <c>[batch, ContextFeatures]</c>,
/// output <c>[batch, OutChannels, height, width]</c> (the same height and width as the input).
/// </summary>
/// <remarks>The image counterpart of <see cref="Conditioner"/>, whose contract is flat (<c>[batch, features]</c>): an image
/// coupling needs a network that keeps the spatial layout (convolutions) and works for any image size.</remarks>
public abstract partial class ImageConditioner : nn.Module<Tensor, Tensor?, Tensor>
{
    /// <summary>Creates a conditioner with the given channel counts.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="inChannels">Channels of the conditioning input; at least 1.</param>
    /// <param name="outChannels">Channels of the output; at least 1.</param>
    /// <param name="contextFeatures">Width of the context; 0 for none.</param>
    protected ImageConditioner(string name, int inChannels, int outChannels, int contextFeatures) : base(name)
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, $"inChannels must be at least 1; got {inChannels}.");
        if (outChannels <= 0) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, $"outChannels must be at least 1; got {outChannels}.");
        if (contextFeatures < 0) throw new ArgumentOutOfRangeException(nameof(contextFeatures), contextFeatures, $"contextFeatures must be 0 or more; got {contextFeatures}.");
        InChannels = inChannels;
        OutChannels = outChannels;
        ContextFeatures = contextFeatures;
    }

    /// <summary>Channels of the conditioning input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output (transform parameters per pixel).</summary>
    public int OutChannels { get; }

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
