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
    /// Fits <paramref name="model"/> to a target density without samples (reverse KL, variational inference): each step draws
    /// <see cref="FitOptions.BatchSize"/> points with <see cref="Distribution.SampleWithLogProb"/> and minimises
    /// <c>mean(log q(x) - beta log p~(x))</c>, which for <c>beta = 1</c> is <c>KL(q || p) - log Z</c>. The loss reported per
    /// step is that estimate at <c>beta = 1</c>, whatever the annealing.
    /// </summary>
    /// <param name="model">The model to train: an unconditional flow whose sampling pass is differentiable.</param>
    /// <param name="logDensity">The unnormalised log-density <c>log p~(x)</c>: given points <c>[batch, ...EventShape]</c> returns
    /// <c>[batch]</c>, differentiable in <c>x</c> (a point outside the support may get <c>-inf</c>; a step that meets one is skipped).</param>
    /// <param name="options">Settings; null for the defaults. Validation, epochs and early stopping do not apply.</param>
    /// <param name="variational">Annealing and the path-derivative gradient; null for neither.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    /// <exception cref="ArgumentException">The model is conditional, an option applies only to data, or the density's output has the wrong shape.</exception>
    public static FitResult ToDensity(Distribution model, Func<Tensor, Tensor> logDensity, FitOptions? options = null,
        VariationalOptions? variational = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(logDensity);
        if (model.ContextFeatures != 0)
            throw new ArgumentException($"ToDensity fits an unconditional model; this one takes a context of {model.ContextFeatures} features.", nameof(model));
        options ??= new FitOptions();
        options.Validate();
        variational ??= new VariationalOptions();
        variational.Validate();
        if (options.Epochs is not null || options.ValidationFraction != 0 || options.ValidationSize != 0 || options.Patience is not null || options.BatchTransform is not null)
            throw new ArgumentException("Epochs, validation, early stopping and BatchTransform apply to fits to data, not to a density; leave them unset.", nameof(options));
        bool first = true;
        using var loop = new TrainingLoop(model, options, options.Iterations, 0, (generator, iteration) =>
        {
            var (x, logQ) = model.SampleWithLogProbCore(options.BatchSize, null, generator);
            var logP = logDensity(x);
            if (first)
            {
                if (logP.dim() != 1 || logP.size(0) != x.size(0))
                    throw new ArgumentException(
                        $"Expected the log-density to return shape [{x.size(0)}] for {x.size(0)} points; got {Guard.Shape(logP.shape)}.", nameof(logDensity));
                first = false;
            }
            var reported = logQ.sub(logP).mean();
            double beta = variational.BetaAt(iteration);
            using var betaScalar = beta.ToScalar();
            var objective = beta == 1.0 ? reported : logQ.sub(logP.mul(betaScalar)).mean();
            if (variational.PathDerivative)
            {
                // Remove the score term: d/dphi log q_phi(x) at fixed x. Its expectation is zero; near q = p it is most of the variance.
                var score = model.LogProbCore(x.detach(), null).mean();
                objective = objective.sub(score).add(score.detach(), Scalars.One);
            }
            return (objective, reported);
        }, null);
        return loop.Run(progress, cancellationToken);
    }

    /// <summary>Fits <paramref name="model"/> to the density of <paramref name="target"/> without using its samples (reverse KL);
    /// see <see cref="ToDensity(Distribution, Func{Tensor, Tensor}, FitOptions?, VariationalOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>.
    /// The target may be unnormalised (<see cref="ITarget.IsNormalized"/> false).</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="target">The target whose <see cref="ITarget.LogDensity"/> is used.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="variational">Annealing and the path-derivative gradient; null for neither.</param>
    /// <param name="progress">Receives a report every <see cref="FitOptions.ProgressInterval"/> steps; may be null.</param>
    /// <param name="cancellationToken">Stops the fit cleanly after the current step.</param>
    public static FitResult ToDensity(Distribution model, ITarget target, FitOptions? options = null,
        VariationalOptions? variational = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(target);
        if (target.Features != model.EventSize || model.EventShape.Count != 1)
            throw new ArgumentException($"The target has {target.Features} features but the model's event shape is {Guard.Shape(model.EventShape)}.", nameof(target));
        return ToDensity(model, target.LogDensity, options, variational, progress, cancellationToken);
    }
}
