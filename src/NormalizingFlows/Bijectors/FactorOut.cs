using System;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// The factor-out step of multi-scale image flows: on images <c>[C, H, W]</c>, the first <c>K</c> channels go on through an
/// inner bijector (the coarser scales of the flow) while the other <c>C - K</c> channels leave the flow here, unchanged, straight
/// to the base distribution. Write <c>x = (x_K, x_R)</c> for the two channel groups and <c>g</c> for the inner bijector.
/// Forward: <c>y = (g(x_K), x_R)</c>; log-det: <c>log|det J_g(x_K)|</c>.
/// Inverse: <c>x = (g^-1(y_K), y_R)</c>; log-det: <c>log|det J_g^-1(y_K)|</c>.
/// Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP" (2017), section 3.6 (multi-scale architecture).
/// </summary>
/// <remarks>
/// <para>Papers describe the factored-out half as "sent to the latent space": the flow's output is the concatenation of every
/// scale's factored-out part. Here that concatenation is kept in place: the factored channels stay where they are, at their
/// resolution, and the whole model remains one bijector on <c>[C, H, W]</c> under one <see cref="Distributions.StandardNormal"/>
/// base of that shape. A standard normal base makes where each latent value sits irrelevant.</para>
/// <para>Shapes: the inner bijector acts on <c>[K, H, W]</c> and must keep that shape end to end
/// (<see cref="Bijector.EventShape"/> = <see cref="Bijector.OutputShape"/>). Inside, it may squeeze to <c>[4K, H/2, W/2]</c> and work
/// there, as long as it unsqueezes back at its base end: a <see cref="Chain"/> listed base to data
/// <c>[new Invert(new Squeeze(K, H, W)), ...layers on [4K, H/2, W/2]..., new Squeeze(K, H, W), ...layers on [K, H, W]...]</c>.
/// The presets in <see cref="Flows"/> nest levels this way.</para>
/// <para>Context: the inner bijector's context width is this layer's; the context goes to it unchanged.</para>
/// </remarks>
public sealed partial class FactorOut : Bijector
{
    private readonly Bijector inner;
    private readonly long kept;
    private readonly long factored;

    /// <summary>Creates the layer on images with <paramref name="channels"/> channels whose first channels go through <paramref name="inner"/>.</summary>
    /// <param name="inner">The bijector on the kept channels, event shape <c>[K, H, W]</c> on both sides, <c>K &lt; channels</c>.</param>
    /// <param name="channels">Total channels <c>C</c> of this layer's images; the last <c>C - K</c> are factored out.</param>
    /// <exception cref="ArgumentException">The inner bijector is not on images, reshapes its events, or keeps all the channels or more.</exception>
    public FactorOut(Bijector inner, int channels) : base(nameof(FactorOut), Checked(inner, channels), (inner ?? throw new ArgumentNullException(nameof(inner))).ContextFeatures)
    {
        this.inner = inner;
        kept = inner.EventShape[0];
        factored = channels - kept;
        RegisterComponents();
    }

    /// <summary>The bijector on the kept channels (the coarser scales of the flow).</summary>
    public Bijector Inner => inner;

    /// <summary>Number of channels that go on through <see cref="Inner"/> (the first ones).</summary>
    public int KeptChannels => (int)kept;

    /// <summary>Number of channels factored out here (the last ones), passed through unchanged.</summary>
    public int FactoredChannels => (int)factored;

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context) => Apply(x, context, inverse: false);

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context) => Apply(y, context, inverse: true);

    private (Tensor Output, Tensor LogAbsDet) Apply(Tensor input, Tensor? context, bool inverse)
    {
        var keep = input.narrow(1, 0, kept);
        var leave = input.narrow(1, kept, factored);
        var innerContext = inner.ContextFeatures == 0 ? null : context;
        var (moved, logAbsDet) = inverse ? inner.InverseCore(keep, innerContext) : inner.ForwardCore(keep, innerContext);
        return (torch.cat(new[] { moved, leave }, 1), logAbsDet);
    }

    private static long[] Checked(Bijector inner, int channels)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner.EventShape.Count != 3)
            throw new ArgumentException(
                $"Expected an inner bijector on images [channels, height, width]; got one with event shape {Guard.Shape(inner.EventShape)}.", nameof(inner));
        if (!inner.EventShape.SequenceEqual(inner.OutputShape))
            throw new ArgumentException(
                $"The inner bijector must keep its shape (its base end must unsqueeze what it squeezes); it maps {Guard.Shape(inner.EventShape)} to {Guard.Shape(inner.OutputShape)}.",
                nameof(inner));
        if (channels <= inner.EventShape[0])
            throw new ArgumentException(
                $"The inner bijector takes {inner.EventShape[0]} channels, so channels must exceed that to leave some to factor out; got {channels}.", nameof(channels));
        return new[] { (long)channels, inner.EventShape[1], inner.EventShape[2] };
    }
}
