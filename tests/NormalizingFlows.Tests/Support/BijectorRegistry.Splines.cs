using System;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Support;

public static partial class BijectorRegistry
{
    /// <summary>Maps N(0, 1.5^2) draws strictly inside (-pi, pi), the natural domain of a circular spline.</summary>
    private static Tensor Angles(Tensor draws) => draws.tanh().mul(Math.PI * 0.999);

    /// <summary>Clamps N(0, 1.5^2) draws to [-1, 1]: about half the inputs lie exactly on a spline bound of 1.</summary>
    private static Tensor OnUnitBound(Tensor draws) => draws.clamp(-1.0, 1.0);

    private static readonly BijectorCase[] SplineCases =
    {
        new("coupling-spline", g => Coupling.WithMlp(Masks.Halves(4), Hidden, transform: new RationalQuadraticSpline(5, 3.0), generator: g), 4),
        // Bound 1 with draws of scale 1.5: most inputs are in the tails, on both sides, in both directions.
        new("coupling-spline-mostly-tails", g => Coupling.WithMlp(Masks.Alternating(5, 1), Hidden, transform: new RationalQuadraticSpline(4, 1.0), generator: g), 5),
        // Inputs exactly on the tail bound, in both directions: round trips, log-dets and autograd Jacobians must all hold there.
        new("coupling-spline-inputs-on-bound", g => Coupling.WithMlp(Masks.Halves(4), Hidden, transform: new RationalQuadraticSpline(5, 1.0), generator: g), 4)
        {
            BaseDomain = OnUnitBound,
            DataDomain = OnUnitBound,
        },
        new("maf-spline-inputs-on-bound", g => MaskedAutoregressive.WithMade(3, Hidden, transform: new RationalQuadraticSpline(4, 1.0), generator: g), 3)
        {
            BaseDomain = OnUnitBound,
            DataDomain = OnUnitBound,
        },
        new("coupling-spline-two-bins", g => Coupling.WithMlp(Masks.Halves(3), Hidden, transform: new RationalQuadraticSpline(2, 2.0), generator: g), 3),
        new("coupling-circular-spline-one-bin", g => Coupling.WithMlp(Masks.Halves(3), Hidden, transform: new CircularSpline(1), generator: g), 3)
        {
            BaseDomain = Angles,
            DataDomain = Angles,
        },
        new("coupling-spline-context", g => Coupling.WithMlp(Masks.Halves(4), Hidden, contextFeatures: 2, transform: new RationalQuadraticSpline(6, 2.5), generator: g), 4, 2),
        new("maf-spline", g => MaskedAutoregressive.WithMade(3, Hidden, transform: new RationalQuadraticSpline(4, 2.5), generator: g), 3),
        new("maf-spline-context", g => MaskedAutoregressive.WithMade(3, Hidden, contextFeatures: 2, transform: new RationalQuadraticSpline(5, 3.0), order: Made.ReversedOrder(3), generator: g), 3, 2),
        new("iaf-spline", g => new Invert(MaskedAutoregressive.WithMade(3, Hidden, transform: new RationalQuadraticSpline(4, 2.0), generator: g)), 3),
        new("coupling-circular-spline", g => Coupling.WithMlp(Masks.Halves(4), Hidden, transform: new CircularSpline(6), generator: g), 4)
        {
            BaseDomain = Angles,
            DataDomain = Angles,
        },
        // Any real is an angle plus whole turns: the lifted map is a bijection of the line.
        new("coupling-circular-spline-all-reals", g => Coupling.WithMlp(Masks.Halves(3), Hidden, transform: new CircularSpline(5), generator: g), 3),
        new("maf-circular-spline", g => MaskedAutoregressive.WithMade(3, Hidden, transform: new CircularSpline(4), generator: g), 3)
        {
            BaseDomain = Angles,
            DataDomain = Angles,
        },
    };
}
