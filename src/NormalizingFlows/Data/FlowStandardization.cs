using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Data;

/// <summary>Puts a <see cref="Standardization"/> at the data end of a flow, so that the flow learns standardised data
/// while its densities and samples stay in the data's own units.</summary>
public static class FlowStandardization
{
    /// <summary>
    /// Returns <c>Flow(flow.Base, Chain(flow.Bijector, Standardization.FitTo(trainingData)))</c>: a flow whose samples are
    /// in data units and whose <see cref="Distribution.LogProb"/> is the density in data units, the standardisation's
    /// log-det <c>-sum(log scale)</c> included: <c>log q(x) = log q_inner((x - mean) / scale) - sum(log scale)</c>.
    /// Train the returned flow on the raw data (<c>Fit.ToData(standardized, trainingData)</c>): its inner layers then see
    /// standardised rows.
    /// </summary>
    /// <param name="flow">The flow to wrap, <c>[features]</c> events, unconditional or conditional.</param>
    /// <param name="trainingData">Training rows <c>[rows, features]</c> to fit the mean and (population) standard deviation
    /// to; only training rows, so that validation and test rows stay unseen. Not disposed. The fitted values are stored in
    /// the type and on the device of the flow's parameters.</param>
    /// <returns>The new flow. It shares its base and layers with <paramref name="flow"/> (training one trains the other);
    /// dispose only the returned flow, which disposes the shared parts.</returns>
    /// <exception cref="ArgumentException">The data has the wrong width, a non-finite value or a constant column.</exception>
    public static Flow Standardized(this Flow flow, Tensor trainingData)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(trainingData);
        CheckFlat(flow);
        if (trainingData.dim() != 2 || trainingData.size(1) != flow.EventShape[0])
            throw new ArgumentException(
                $"Expected trainingData with shape {Guard.BatchShape(flow.EventShape, "rows")}; got {Guard.Shape(trainingData.shape)}.", nameof(trainingData));
        var standardization = Standardization.FitTo(trainingData);
        // Store mean and scale as the flow stores its own tensors, so float64 data never promotes a float32 flow.
        var reference = flow.parameters().Concat(flow.buffers()).FirstOrDefault(t => t.is_floating_point());
        if (reference is not null)
        {
            standardization.to(reference.dtype);
            standardization.to(reference.device);
        }
        return Standardized(flow, standardization);
    }

    /// <summary>Returns <c>Flow(flow.Base, Chain(flow.Bijector, standardization))</c> with a standardisation fitted
    /// before (or a placeholder <see cref="Standardization(int)"/> to load a saved state into). See
    /// <see cref="Standardized(Flow, Tensor)"/>.</summary>
    /// <param name="flow">The flow to wrap.</param>
    /// <param name="standardization">The standardisation; the returned flow takes it over.</param>
    /// <returns>The new flow, sharing its base and layers with <paramref name="flow"/>.</returns>
    /// <exception cref="ArgumentException">The widths differ.</exception>
    public static Flow Standardized(this Flow flow, Standardization standardization)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(standardization);
        CheckFlat(flow);
        if (!standardization.EventShape.SequenceEqual(flow.EventShape))
            throw new ArgumentException(
                $"Expected a standardization of {flow.EventShape[0]} features (as the flow); got {standardization.EventShape[0]}.", nameof(standardization));
        return new Flow(flow.Base, new Chain(flow.Bijector, standardization));
    }

    private static void CheckFlat(Flow flow)
    {
        if (flow.EventShape.Count != 1)
            throw new ArgumentException($"Expected a flow on [features] events; got event shape {Guard.Shape(flow.EventShape)}.", nameof(flow));
    }
}
