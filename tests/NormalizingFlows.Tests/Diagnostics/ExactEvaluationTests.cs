using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Diagnostics;

/// <summary>Estimates say so (<see cref="Bijector.LogDetIsEstimate"/>, <see cref="Distribution.LogProbIsEstimate"/>), and
/// <see cref="ExactEvaluation"/> makes residual blocks exact for the length of a scope, up to its width limit.</summary>
public sealed class ExactEvaluationTests
{
    private static Flow Residual(int features, ResidualLogDet logDet = ResidualLogDet.PowerSeries, long seed = 3)
    {
        var flow = Flows.ResidualFlow(features, layers: 2, hiddenFeatures: new[] { 16 }, logDet: logDet, seed: seed);
        flow.to(ScalarType.Float64);
        flow.eval();
        return flow;
    }

    [Fact]
    public void Should_Flag_Residual_Flow_As_Estimate_When_Using_Power_Series()
    {
        using var flow = Residual(2);
        var chain = Assert.IsType<Chain>(flow.Bijector);
        var inverted = Assert.IsType<Invert>(chain.Layers[0]);
        var block = flow.modules().OfType<ResidualBlock>().First();
        Assert.True(block.LogDetIsEstimate);
        Assert.True(inverted.LogDetIsEstimate);                      // a composite answers for its parts
        Assert.True(chain.LogDetIsEstimate);
        Assert.True(flow.LogProbIsEstimate);
        Assert.False(flow.Base.LogProbIsEstimate);

        // One block switched to exact leaves the flow an estimate; all of them make it exact.
        block.LogDet = ResidualLogDet.Exact;
        Assert.False(block.LogDetIsEstimate);
        Assert.True(flow.LogProbIsEstimate);
        Assert.Equal(2, ResidualBlock.SetLogDet(flow, ResidualLogDet.Exact));
        Assert.False(flow.LogProbIsEstimate);
    }

    [Fact]
    public void Should_Report_Exact_LogProb_When_Flow_Has_No_Estimating_Layer()
    {
        using var realNvp = Flows.RealNvp(features: 2, layers: 2, hiddenFeatures: new[] { 8 });
        using var gaussian = new DiagonalGaussian(3);
        Assert.False(realNvp.LogProbIsEstimate);
        Assert.False(realNvp.Bijector.LogDetIsEstimate);
        Assert.False(gaussian.LogProbIsEstimate);
        Assert.True(ExactEvaluation.IsAffordable(realNvp));
    }

    [Fact]
    public void Should_Evaluate_Exact_LogDets_Inside_Scope_And_Restore_The_Estimate_After()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Residual(2);
        using var exactFlow = Residual(2, ResidualLogDet.Exact);
        using var generator = new Generator(5);
        var x = torch.randn(new long[] { 50, 2 }, dtype: ScalarType.Float64, generator: generator);
        var expected = exactFlow.LogProb(x);
        using (var exact = ExactEvaluation.Enter(flow))
        {
            Assert.True(exact.IsExact);
            Assert.False(flow.LogProbIsEstimate);
            Assert.All(flow.modules().OfType<ResidualBlock>(), b => Assert.Equal(ResidualLogDet.PowerSeries, b.LogDet)); // the saved mode stays
            Assert.All(flow.modules().OfType<ResidualBlock>(), b => Assert.Equal(ResidualLogDet.Exact, b.EffectiveLogDet));
            var inside = flow.LogProb(x);
            Assert.Equal(0.0, inside.sub(expected).abs().max().ToDouble(), 12);
            Assert.Equal(0.0, flow.LogProb(x).sub(inside).abs().max().ToDouble(), 15);  // deterministic
        }
        Assert.True(flow.LogProbIsEstimate);
        var first = flow.LogProb(x);
        var second = flow.LogProb(x);
        Assert.True(first.sub(second).abs().max().ToDouble() > 1e-6, "after the scope the power-series estimate (fresh probes per call) should be back.");
    }

    [Fact]
    public void Should_Stay_Exact_Until_The_Last_Of_Overlapping_Scopes_Ends()
    {
        using var flow = Residual(2);
        var outer = ExactEvaluation.Enter(flow);
        var inner = ExactEvaluation.Enter(flow);
        outer.Dispose();
        Assert.False(flow.LogProbIsEstimate);
        outer.Dispose();                                             // a second dispose releases nothing more
        Assert.False(flow.LogProbIsEstimate);
        inner.Dispose();
        Assert.True(flow.LogProbIsEstimate);
    }

    [Fact]
    public void Should_Keep_The_Estimate_When_Blocks_Are_Wider_Than_The_Limit()
    {
        int wide = (int)ExactEvaluation.MaximumExactFeatures + 1;
        using var flow = Residual(wide);
        Assert.False(ExactEvaluation.IsAffordable(flow));
        using (var scope = ExactEvaluation.Enter(flow))
        {
            Assert.False(scope.IsExact);
            Assert.True(flow.LogProbIsEstimate);
        }
        Assert.True(ExactEvaluation.IsAffordable(flow, maximumFeatures: wide));
        using var narrow = Residual((int)ExactEvaluation.MaximumExactFeatures);
        Assert.True(ExactEvaluation.IsAffordable(narrow));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExactEvaluation.Enter(flow, -1));
    }

    [Fact]
    public void Should_Give_Exact_NLL_Without_Standard_Error_When_Exact_Is_Affordable()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Residual(2);
        using var exactFlow = Residual(2, ResidualLogDet.Exact);
        using var generator = new Generator(6);
        var x = torch.randn(new long[] { 300, 2 }, dtype: ScalarType.Float64, generator: generator);
        double expected = -exactFlow.LogProb(x).mean().ToDouble();
        var estimate = Metrics.NegativeLogLikelihoodEstimate(flow, x);
        Assert.True(estimate.IsExact);
        Assert.Equal(0.0, estimate.StandardError);
        Assert.Equal(1, estimate.Evaluations);
        Assert.Equal(expected, estimate.Value, 10);
        Assert.Equal(expected, Metrics.NegativeLogLikelihood(flow, x), 10);
        Assert.True(flow.LogProbIsEstimate, "Metrics must restore the flow's own mode.");
    }

    [Fact]
    public void Should_Give_Standard_Error_Of_Repeated_Estimates_When_Exact_Is_Not_Affordable()
    {
        using var scope = torch.NewDisposeScope();
        int wide = (int)ExactEvaluation.MaximumExactFeatures + 4;
        using var flow = Residual(wide);
        using var exactFlow = Residual(wide, ResidualLogDet.Exact);
        foreach (var block in flow.modules().OfType<ResidualBlock>()) block.SeriesTerms = 30;   // truncation bias negligible
        using var generator = new Generator(7);
        var x = torch.randn(new long[] { 20, wide }, dtype: ScalarType.Float64, generator: generator);
        double exact = -exactFlow.LogProb(x).mean().ToDouble();
        var estimate = Metrics.NegativeLogLikelihoodEstimate(flow, x, repeats: 8);
        Assert.False(estimate.IsExact);
        Assert.Equal(8, estimate.Evaluations);
        Assert.True(estimate.StandardError > 0, "independent repeats (fresh probes) should differ.");
        // The mean of unbiased estimates is within a few standard errors of the exact value.
        Assert.True(Math.Abs(estimate.Value - exact) < 5 * estimate.StandardError,
            $"estimate {estimate} vs exact {exact:F5}.");
        Assert.Contains("+-", estimate.Format("F4"));
        Assert.Contains("(estimate, 8 repeats)", estimate.Format("F4"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Metrics.NegativeLogLikelihoodEstimate(flow, x, repeats: 1));
    }

    [Fact]
    public void Should_Give_KL_Standard_Error_Only_For_Estimates()
    {
        var target = new UniformNormal();
        using var flow = Residual(2);
        var kl = Metrics.KlDivergenceEstimate(target, flow, samples: 2000, seed: 2);
        Assert.True(kl.IsExact);
        Assert.Equal(Metrics.KlDivergence(target, flow, samples: 2000, seed: 2), kl.Value, 10);
    }
}
