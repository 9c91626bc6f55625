using System;
using System.Linq;
using NormalizingFlows.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NormalizingFlows.Bijectors;

/// <summary>
/// Activation normalisation: a per-feature (per-channel for images) affine map whose parameters are initialised from the data.
/// Forward: <c>y = x * exp(logScale) + shift</c>; log-det: <c>sum(logScale)</c> (times <c>height * width</c> for images).
/// Inverse: <c>x = (y - shift) * exp(-logScale)</c>; log-det: <c>-sum(logScale)</c> (times <c>height * width</c>).
/// Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions" (2018).
/// </summary>
/// <remarks>
/// <para>Data-dependent initialisation: the first <see cref="Bijector.Inverse"/> (data to base) in training mode, which in
/// maximum-likelihood training is the first batch, sets <c>shift</c> to the batch mean and <c>logScale</c> to the log of the
/// batch standard deviation of each feature (over rows, and over pixels for images), so that the output of that call has zero mean
/// and unit variance per feature. <see cref="Initialize"/> does it explicitly. Until then the layer is the identity.</para>
/// <para>The initialised flag is a persistent buffer (<c>initialized</c> in the state dictionary): a saved and reloaded layer keeps
/// its parameters and never re-initialises. Forward calls and calls in eval mode never initialise.</para>
/// <para>A standard deviation below <see cref="MinScale"/> (a constant feature, or a single row) is raised to it.</para>
/// </remarks>
public sealed partial class ActNorm : Bijector
{
    /// <summary>The smallest standard deviation the initialisation divides by.</summary>
    public const double MinScale = 1e-6;

    private readonly Parameter shift;
    private readonly Parameter logScale;
    private readonly Tensor initialized;
    private readonly long[] parameterShape;
    private readonly long pixels;

    /// <summary>Creates an activation normalisation on <c>[batch, features]</c> data, the identity until initialised.</summary>
    /// <param name="features">Number of features.</param>
    public ActNorm(int features) : this(new[] { (long)CheckPositive(features, nameof(features)) }) { }

    /// <summary>Creates an activation normalisation on images <c>[batch, channels, height, width]</c>, one scale and shift per channel.</summary>
    /// <param name="channels">Number of channels.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    public ActNorm(int channels, int height, int width)
        : this(new[] { (long)CheckPositive(channels, nameof(channels)), CheckPositive(height, nameof(height)), CheckPositive(width, nameof(width)) }) { }

    private ActNorm(long[] eventShape) : base(nameof(ActNorm), eventShape)
    {
        long channels = eventShape[0];
        pixels = eventShape.Skip(1).Aggregate(1L, (a, b) => a * b);
        parameterShape = new long[eventShape.Length + 1];
        parameterShape[0] = 1;
        parameterShape[1] = channels;
        for (int i = 2; i < parameterShape.Length; i++) parameterShape[i] = 1;
        shift = new Parameter(torch.zeros(channels).DetachFromDisposeScope());
        logScale = new Parameter(torch.zeros(channels).DetachFromDisposeScope());
        initialized = torch.tensor(false).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Whether the data-dependent initialisation has happened (or parameters were loaded from an initialised layer).</summary>
    public bool IsInitialized => initialized.item<bool>();

    /// <summary>
    /// Sets <c>shift</c> and <c>logScale</c> so that <see cref="Bijector.Inverse"/> maps <paramref name="data"/> to zero mean and unit
    /// variance per feature, and marks the layer initialised. Works in any mode; overwrites any earlier initialisation.
    /// </summary>
    /// <param name="data">Data-side batch <c>[batch, ...EventShape]</c>, of the layer's dtype on its device.</param>
    /// <exception cref="ArgumentException">The shape of <paramref name="data"/> is wrong, or it is not of the layer's dtype on its device.</exception>
    public void Initialize(Tensor data)
    {
        Guard.Shaped(data, EventShape, nameof(data));
        CheckPlacement(data, nameof(data), null);
        using var scope = torch.NewDisposeScope();
        InitializeCore(data);
    }

    /// <inheritdoc />
    protected internal override (Tensor Output, Tensor LogAbsDet) ForwardCore(Tensor x, Tensor? context)
    {
        using var pixelCount = pixels.ToScalar();
        var y = x.mul(logScale.exp().view(parameterShape)).add(shift.view(parameterShape), Scalars.One);
        return (y, logScale.sum().mul(pixelCount).expand(x.size(0)));
    }

    /// <inheritdoc />
    /// <remarks>In training mode, the first call initialises the layer from <paramref name="y"/>.</remarks>
    protected internal override (Tensor Output, Tensor LogAbsDet) InverseCore(Tensor y, Tensor? context)
    {
        if (training && !IsInitialized) InitializeCore(y);
        var x = y.sub(shift.view(parameterShape)).mul(logScale.neg().exp().view(parameterShape));
        using var minusPixelCount = (-pixels).ToScalar();
        return (x, logScale.sum().mul(minusPixelCount).expand(y.size(0)));
    }

    private void InitializeCore(Tensor data)
    {
        using var noGrad = torch.no_grad();
        var perChannel = data.detach().transpose(0, 1).reshape(EventShape[0], -1).to(shift.dtype);
        var mean = perChannel.mean(new long[] { 1 });
        var std = perChannel.std(1, unbiased: false).clamp_min(Scalars.Of(MinScale));
        shift.copy_(mean);
        logScale.copy_(std.log());
        using var set = true.ToScalar();
        initialized.fill_(set);
    }

    private static int CheckPositive(int value, string paramName)
    {
        Guard.Features(value, paramName);
        return value;
    }
}
