using System;
using System.Threading;
using NormalizingFlows.Internal;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Training;

public static partial class Fit
{
    /// <summary>
    /// Trains the <see cref="Bijectors.ContinuousFlow"/> of <paramref name="flow"/> by conditional flow matching (Lipman et al.,
    /// 2023) on an in-memory data set: each step pairs a batch of data rows <c>x1</c> with base samples <c>x0</c> (optionally by
    /// minibatch optimal transport, Tong et al., 2023), draws <c>t ~ U[0, 1]</c> per row and minimises
    /// <c>mean |v(x_t, t) - (x1 - x0)|^2</c> on the straight path <c>x_t = (1 - t) x0 + t x1</c>. No ODE is solved in training;
    /// log-densities afterwards are exact (as for a flow trained by maximum likelihood).
    /// </summary>
    /// <remarks>Everything else is as in <see cref="ToData(Distribution, Tensor, FitOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>:
    /// epochs, shuffled minibatches, the learning-rate schedule, skipped non-finite steps, progress, checkpoints and resume
    /// (a checkpoint records the objective), and a validation set with early stopping. The loss reported per step is the
    /// flow-matching loss; the validation loss is the held-out negative log-likelihood, through the solver (exact divergence
    /// where <see cref="Diagnostics.ExactEvaluation"/> affords it).
    /// The flow's other layers (a standardisation, say) and its base must have no trainable parameters.</remarks>
    /// <param name="flow">The flow; its bijector holds exactly one continuous flow.</param>
    /// <param name="data">Training rows <c>[rows, features]</c>; every value must be finite.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="matching">Flow-matching settings; null for the straight path without optimal transport.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    /// <exception cref="ArgumentException">The flow has no continuous flow, or trainable parts besides it; the data is wrong (as for
    /// <c>ToData</c>).</exception>
    public static FitResult FlowMatching(Flow flow, Tensor data, FitOptions? options = null, FlowMatchingOptions? matching = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flow);
        RequireUnconditional(flow);
        var plan = Plan(flow, matching);
        return FitRows(flow, data, null, options, progress, cancellationToken, plan.Loss, plan.Objective);
    }

    /// <summary>Trains a conditional continuous flow by flow matching on rows and their contexts: the velocity sees each row's
    /// context. See <see cref="FlowMatching(Flow, Tensor, FitOptions?, FlowMatchingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>.</summary>
    /// <param name="flow">The conditional flow (<see cref="Distribution.ContextFeatures"/> &gt; 0).</param>
    /// <param name="data">Training rows <c>[rows, features]</c>.</param>
    /// <param name="context">One context row per data row, <c>[rows, ContextFeatures]</c>.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="matching">Flow-matching settings (optimal transport is not available for conditional flows).</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    public static FitResult FlowMatching(Flow flow, Tensor data, Tensor context, FitOptions? options = null, FlowMatchingOptions? matching = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flow);
        RequireConditional(flow);
        var plan = Plan(flow, matching);
        return FitRows(flow, data, context, options, progress, cancellationToken, plan.Loss, plan.Objective);
    }

    /// <summary>Trains the continuous flow of <paramref name="flow"/> by flow matching on fresh samples of
    /// <paramref name="target"/> every step (<see cref="FitOptions.ValidationSize"/> draws a fixed validation set). See
    /// <see cref="FlowMatching(Flow, Tensor, FitOptions?, FlowMatchingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>.</summary>
    /// <param name="flow">The unconditional flow.</param>
    /// <param name="target">Where the samples come from.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="matching">Flow-matching settings; null for the defaults.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    public static FitResult FlowMatching(Flow flow, ITarget target, FitOptions? options = null, FlowMatchingOptions? matching = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(target);
        RequireUnconditional(flow);
        if (target.Features != flow.EventSize || flow.EventShape.Count != 1)
            throw new ArgumentException($"The target has {target.Features} features but the flow's event shape is {Guard.Shape(flow.EventShape)}.", nameof(target));
        var plan = Plan(flow, matching);
        var (dtype, device) = ModuleTensors.Placement(flow);
        return FitSampler(flow, (count, generator) => (target.Sample(count, generator, dtype, device), null), options, progress, cancellationToken,
            plan.Loss, plan.Objective);
    }

    private static FlowMatchingPlan Plan(Flow flow, FlowMatchingOptions? matching)
    {
        matching ??= new FlowMatchingOptions();
        matching.Validate();
        return FlowMatchingPlan.Create(flow, matching);
    }
}
