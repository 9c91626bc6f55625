using System;
using NormalizingFlows.Distributions;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Images;

/// <summary>Sampling from image flows with a temperature, as in Glow (Kingma and Dhariwal, 2018, section 5.3).</summary>
public static class ImageSampling
{
    /// <summary>
    /// Draws <paramref name="count"/> samples from <paramref name="flow"/> with its standard normal base tempered:
    /// <c>z ~ N(0, T^2 I)</c>, <c>x = f(z)</c>, without gradients.
    /// </summary>
    /// <remarks>A temperature below 1 trades diversity for quality: samples come from near the base's mode, where the flow is
    /// usually best trained (Glow uses T = 0.7). <c>T = 1</c> gives ordinary samples of the model, like
    /// <see cref="Distribution.Sample"/>; other temperatures give samples of a different distribution, not of the model.</remarks>
    /// <param name="flow">A flow whose base is <see cref="StandardNormal"/>.</param>
    /// <param name="count">Number of samples; positive (with a context, its row count).</param>
    /// <param name="temperature">The standard deviation <c>T</c> of the base draws; positive and finite.</param>
    /// <param name="generator">Generator for the base draws; null uses TorchSharp's default generator.</param>
    /// <param name="context">Context <c>[count, ContextFeatures]</c> for a conditional flow, or null.</param>
    /// <returns>Samples <c>[count, ...EventShape]</c>, a tensor the caller owns.</returns>
    /// <exception cref="ArgumentException">The base is not a standard normal, a number is out of range, or the context is wrong (its
    /// shape, or not of the flow's dtype on its device).</exception>
    public static Tensor Sample(Flow flow, long count, double temperature, Generator? generator = null, Tensor? context = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (flow.Base is not StandardNormal)
            throw new ArgumentException(
                $"Sampling with a temperature scales a standard normal base; this flow's base is a {flow.Base.GetType().Name}.", nameof(flow));
        Guard.Positive(count, nameof(count));
        Guard.Positive(temperature, nameof(temperature));
        Guard.Context(context, flow.Bijector.ContextFeatures, count, nameof(context));
        flow.CheckPlacement(null, "x", context);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var temperatureScalar = temperature.ToScalar();
        var z = flow.Base.SampleCore(count, null, generator).mul(temperatureScalar);
        var x = flow.Bijector.ForwardCore(z, flow.Bijector.ContextFeatures == 0 ? null : context).Output;
        return scope.MoveToOuter(x);
    }
}
