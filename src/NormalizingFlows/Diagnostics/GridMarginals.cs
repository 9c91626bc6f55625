using System;
using NormalizingFlows.Internal;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Diagnostics;

/// <summary>
/// The two 1-D marginal densities of a 2-D density, by numerical integration over a grid (midpoint rule): for
/// <c>p(x, y)</c>, <c>p(x) = integral of p(x, y) dy</c> over the box's y range and the same for <c>p(y)</c>. This is how the
/// first source tutorial gets the marginal of b, which has no closed form. Each marginal is renormalised to integrate to one
/// over the box, so unnormalised densities work too (and mass outside the box is ignored).
/// </summary>
/// <param name="X">Midpoints along the first axis.</param>
/// <param name="Y">Midpoints along the second axis.</param>
/// <param name="MarginalX">Density of the first coordinate at each of <see cref="X"/>.</param>
/// <param name="MarginalY">Density of the second coordinate at each of <see cref="Y"/>.</param>
/// <param name="MassInBox">The integral of the density over the box before renormalising (near 1 for a normalised density
/// whose mass the box holds; for an unnormalised density, an estimate of its normaliser over the box).</param>
public sealed record GridMarginals(double[] X, double[] Y, double[] MarginalX, double[] MarginalY, double MassInBox)
{
    /// <summary>Marginals of a 2-D model's density over <paramref name="box"/>.</summary>
    /// <param name="model">An unconditional model with event shape <c>[2]</c>.</param>
    /// <param name="box">The integration rectangle.</param>
    /// <param name="steps">Grid points per axis; at least 2.</param>
    public static GridMarginals Of(Distribution model, Box box, int steps = 200)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.EventShape.Count != 1 || model.EventShape[0] != 2 || model.ContextFeatures != 0)
            throw new ArgumentException($"Marginals on a grid need an unconditional 2-D model; this one has event shape {Guard.Shape(model.EventShape)}.", nameof(model));
        bool training = model.training;
        model.eval();
        using var exact = ExactEvaluation.Enter(model);
        try
        {
            var (dtype, device) = ModuleTensors.Placement(model);
            return Integrate(box, steps, dtype, device, grid => model.LogProbCore(grid, null));
        }
        finally
        {
            if (training) model.train();
        }
    }

    /// <summary>Marginals of a 2-D target's density (normalised or not) over <paramref name="box"/>, or over its
    /// <see cref="ITarget.Bounds"/> when <paramref name="box"/> is null.</summary>
    /// <param name="target">A target with two features.</param>
    /// <param name="box">The integration rectangle; null for the target's bounds.</param>
    /// <param name="steps">Grid points per axis; at least 2.</param>
    public static GridMarginals Of(ITarget target, Box? box = null, int steps = 200)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Features != 2)
            throw new ArgumentException($"Marginals on a grid need a 2-D target; {target.Name} has {target.Features} features.", nameof(target));
        return Integrate(box ?? target.Bounds, steps, ScalarType.Float64, null, target.LogDensity);
    }

    private static GridMarginals Integrate(Box box, int steps, ScalarType dtype, Device? device, Func<Tensor, Tensor> logDensity)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be at least 2; got {steps}.");
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var grid = Metrics.Grid(box.XMin, box.XMax, box.YMin, box.YMax, steps, dtype, device);
        var parts = new System.Collections.Generic.List<Tensor>();
        for (long start = 0; start < grid.size(0); start += Metrics.ChunkSize)
            parts.Add(logDensity(grid.narrow(0, start, Math.Min(Metrics.ChunkSize, grid.size(0) - start))).to(ScalarType.Float64).cpu());
        // Rows of the grid: y varies slowest, x fastest.
        var density = torch.cat(parts.ToArray(), 0).exp().nan_to_num(0.0).reshape(steps, steps);
        double dx = box.Width / steps, dy = box.Height / steps;
        using var dxScalar = dx.ToScalar();
        using var dyScalar = dy.ToScalar();
        var marginalX = density.sum(dim: 0).mul(dyScalar);
        var marginalY = density.sum(1).mul(dxScalar);
        double mass = TensorValues.ToDouble(marginalX.sum()) * dx;
        if (mass > 0)
        {
            using var massScalar = mass.ToScalar();
            marginalX = marginalX.div(massScalar);
            marginalY = marginalY.div(massScalar);
        }
        double[] Axis(double min, double step) { var a = new double[steps]; for (int i = 0; i < steps; i++) a[i] = min + (i + 0.5) * step; return a; }
        return new GridMarginals(Axis(box.XMin, dx), Axis(box.YMin, dy), marginalX.data<double>().ToArray(), marginalY.data<double>().ToArray(), mass);
    }
}
