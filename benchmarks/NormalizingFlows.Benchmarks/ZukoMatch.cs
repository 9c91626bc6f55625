using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Distributions;
using NormalizingFlows.Transforms;
using TorchSharp;

namespace NormalizingFlows.Benchmarks;

/// <summary>
/// Our flow matched layer for layer to a zuko 1.6 preset (../zuko/zuko_bench.py builds zuko's side): zuko's <c>NSF(passes=2)</c>,
/// <c>NSF()</c> and <c>MAF()</c> with their defaults, i.e. 3 transforms, conditioner networks with hidden widths [64, 64] and ReLU,
/// orders (or halves) alternating between transforms, 8 spline bins on [-5, 5] with identity tails, a fixed standard normal base,
/// and no other layers. The presets in <see cref="Flows"/> add an <see cref="ActNorm"/> (and <see cref="LuLinear"/> layers to the
/// coupling NSF), which zuko's presets do not have, so the chain is built here from the same public parts the presets use.
/// </summary>
/// <remarks>What still differs (printed with every run as <c>differences</c>): see <see cref="Differences"/>.</remarks>
internal static class ZukoMatch
{
    /// <summary>The flows, as zuko_bench.py names them.</summary>
    public static IReadOnlyList<string> FlowNames { get; } = new[] { "nsf-coupling", "nsf-autoregressive", "maf" };

    /// <summary>zuko's <c>slope</c> default, 1e-3: the smallest spline derivative and, through <c>|log slope|</c>, the bound of MAF's
    /// soft-clamped log-scale.</summary>
    private const double Slope = 1e-3;

    /// <summary>Splits <c>FLOW-FEATURES</c> (e.g. <c>nsf-coupling-8</c>).</summary>
    public static (string Flow, int Features) Parse(string config)
    {
        int dash = config.LastIndexOf('-');
        string flow = dash > 0 ? config[..dash] : "";
        if (!FlowNames.Contains(flow) || !int.TryParse(config[(dash + 1)..], out int features) || features < 2)
            throw new ArgumentException(
                $"Expected FLOW-FEATURES with FLOW in {string.Join(", ", FlowNames)} and FEATURES at least 2 (e.g. nsf-coupling-8); got '{config}'.", nameof(config));
        return (flow, features);
    }

    /// <summary>Builds the matched flow.</summary>
    public static Flow Create(string flow, int features, int transforms, IReadOnlyList<int> hidden, int bins, long seed)
    {
        using var generator = new torch.Generator((ulong)seed);
        var layers = new List<Bijector>(transforms);
        for (int i = 0; i < transforms; i++)
        {
            // zuko: transform i uses the ascending order for even i and the descending one for odd i; with passes=2 the first
            // ceil(D/2) features of that order condition the rest, i.e. the second half is transformed first, then the first half.
            var order = i % 2 == 0 ? Made.NaturalOrder(features) : Made.ReversedOrder(features);
            layers.Add(flow switch
            {
                "nsf-coupling" => Coupling.WithMlp(Masks.Halves(features, second: i % 2 == 0), hidden, 0,
                    Spline(bins), Activation.Relu, generator),
                "nsf-autoregressive" => MaskedAutoregressive.WithMade(features, hidden, 0, Spline(bins), order, residual: false,
                    Activation.Relu, generator),
                "maf" => MaskedAutoregressive.WithMade(features, hidden, 0, new AffineTransform(ScaleMap.SoftClamp, -Math.Log(Slope)), order,
                    residual: false, Activation.Relu, generator),
                _ => throw new ArgumentException($"Unknown flow '{flow}'; expected {string.Join(", ", FlowNames)}.", nameof(flow)),
            });
        }
        return new Flow(new StandardNormal(features), new Chain(layers));
    }

    private static RationalQuadraticSpline Spline(int bins) => new(bins, bound: 5.0, minDerivative: Slope);

    /// <summary>Everything that still differs from zuko's preset, for the flow.</summary>
    public static IReadOnlyList<string> Differences(string flow)
    {
        var common = new List<string>
        {
            "direction: our layers map data to base with the transform's inverse (density) and base to data with its forward "
            + "formula (sampling); zuko the other way round (same number of network passes either way)",
            "initialisation: our output layers start at zero (each layer the identity) and the others uniform(+-1/sqrt(fan_in)); "
            + "zuko's are all torch.nn.Linear's default",
        };
        if (flow == "nsf-coupling")
            common.Add("coupling: our conditioner is a dense MLP D/2 -> 64 -> 64 -> (D/2)(3K-1) and the conditioning half passes "
                + "through; zuko's is a masked MLP D -> 64 -> 64 -> D(3K-1) (half of its input columns masked) and it also applies "
                + "a spline with learned constant parameters (output biases) to the conditioning half");
        if (flow == "nsf-autoregressive" || flow == "maf")
            common.Add("MADE: same masks up to which hidden unit gets which degree (both cycle through 1..D-1)");
        if (flow != "maf")
            common.Add("spline parameters: ours are widths/heights minBin 1e-3 + softmax and knot derivatives 1e-3 + softplus; zuko's "
                + "soft-clamp the raw values (x / (1 + |x / log 1e-3|)) then softmax / exp; same bins, bound 5, identity tails");
        else
            common.Add("log-scale: ours 6.91 tanh(u / 6.91) (ScaleMap.SoftClamp with bound -log 1e-3); zuko's u / (1 + |u / log 1e-3|)");
        return common;
    }
}
