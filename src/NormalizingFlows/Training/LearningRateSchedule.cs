using System;

namespace NormalizingFlows.Training;

/// <summary>
/// How the learning rate changes over a fit: a factor applied to <see cref="FitOptions.LearningRate"/> at each step.
/// A linear warm-up (<see cref="FitOptions.WarmupIterations"/>) runs first; the schedule then counts its steps from the
/// end of the warm-up.
/// </summary>
public abstract record LearningRateSchedule
{
    private protected LearningRateSchedule() { }

    /// <summary>The same rate throughout.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    /// <summary>Multiplies the rate by <paramref name="gamma"/> every <paramref name="every"/> steps.</summary>
    /// <param name="every">Steps between two reductions; positive.</param>
    /// <param name="gamma">Factor of each reduction, in (0, 1].</param>
    public static LearningRateSchedule Step(int every, double gamma = 0.1)
    {
        if (every <= 0) throw new ArgumentOutOfRangeException(nameof(every), every, $"every must be at least 1; got {every}.");
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"gamma must be in (0, 1]; got {gamma}.");
        return new StepSchedule(every, gamma);
    }

    /// <summary>Cosine annealing from the full rate to <paramref name="finalFactor"/> times it at the last step.</summary>
    /// <param name="finalFactor">Fraction of the rate left at the end, in [0, 1].</param>
    public static LearningRateSchedule Cosine(double finalFactor = 0)
    {
        if (!(finalFactor >= 0 && finalFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(finalFactor), finalFactor, $"finalFactor must be in [0, 1]; got {finalFactor}.");
        return new CosineSchedule(finalFactor);
    }

    /// <summary>How the schedule is written in reports: "constant", "cosine to 1 % of the rate", "x 0.1 every 100 steps".</summary>
    public abstract override string ToString();

    /// <summary>The factor at step <paramref name="step"/> (0-based) of a schedule <paramref name="steps"/> long.</summary>
    public abstract double Factor(int step, int steps);

    private sealed record ConstantSchedule : LearningRateSchedule
    {
        public override double Factor(int step, int steps) => 1.0;

        public override string ToString() => "constant";
    }

    private sealed record StepSchedule(int Every, double Gamma) : LearningRateSchedule
    {
        public override double Factor(int step, int steps) => Math.Pow(Gamma, step / Every);

        public override string ToString() => FormattableString.Invariant($"x {Gamma:G} every {Every} steps");
    }

    private sealed record CosineSchedule(double FinalFactor) : LearningRateSchedule
    {
        public override double Factor(int step, int steps)
        {
            double progress = steps <= 1 ? 1.0 : Math.Min(1.0, (double)step / (steps - 1));
            return FinalFactor + (1 - FinalFactor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
        }

        public override string ToString() => FormattableString.Invariant($"cosine to {FinalFactor * 100:G3} % of the rate");
    }
}
