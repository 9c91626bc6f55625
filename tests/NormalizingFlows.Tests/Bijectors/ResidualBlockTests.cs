using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Residual blocks: the Lipschitz constraint, the stochastic log-det estimator against the exact one,
/// the fixed-point inverse and its gradients, and clear errors.</summary>
public sealed class ResidualBlockTests
{
    private static ResidualBlock Create(int features, double coefficient, ResidualLogDet logDet, long seed = 1, long estimatorSeed = 0,
        Activation activation = Activation.Elu, double weightScale = 1.0)
    {
        using var generator = new Generator((ulong)seed);
        var block = new ResidualBlock(features, new[] { 16, 16 }, coefficient, activation, logDet, generator, estimatorSeed);
        block.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in block.parameters())
                p.mul_(weightScale).add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        block.eval();
        return block;
    }

    /// <summary>J_g = J_f - I per row, by autograd of the whole block.</summary>
    private static Tensor ResidualJacobian(ResidualBlock block, Tensor x)
    {
        var input = x.detach().clone().requires_grad_(true);
        var y = block.Forward(input).Output;
        long features = x.shape[1];
        var rows = Enumerable.Range(0, (int)features)
            .Select(i => torch.autograd.grad(new[] { y.select(1, i).sum() }, new[] { input }, retain_graph: true)[0])
            .ToArray();
        return torch.stack(rows, 1).sub(torch.eye(features, dtype: x.dtype)).detach();
    }

    [Fact]
    public void Should_Keep_Lipschitz_Constant_Below_One_When_Weights_Are_Large()
    {
        using var scope = torch.NewDisposeScope();
        using var block = Create(3, 0.9, ResidualLogDet.Exact, weightScale: 20.0);
        var x = torch.randn(new long[] { 200, 3 }, dtype: ScalarType.Float64).mul(2);
        var spectralNorms = torch.linalg.matrix_norm(ResidualJacobian(block, x), 2.0);
        double largest = spectralNorms.max().ToDouble();
        // Three linear layers with spectral norm at most 0.9 and a 1-Lipschitz activation: |J_g| <= 0.9^3 = 0.729
        // (power iteration can underestimate a norm slightly; allow 1 %).
        Assert.True(largest <= 0.729 * 1.01, $"largest spectral norm of J_g is {largest:F4}, above 0.729.");
    }

    [Fact]
    public void Should_Match_Exact_LogDet_On_Average_When_Using_Power_Series()
    {
        using var scope = torch.NewDisposeScope();
        using var exact = Create(3, 0.8, ResidualLogDet.Exact);
        using var series = Create(3, 0.8, ResidualLogDet.PowerSeries);
        series.SeriesTerms = 30;                                      // truncation error below 3 * 0.512^31 / 31, negligible
        var point = torch.randn(new long[] { 1, 3 }, dtype: ScalarType.Float64);
        var (_, expected) = exact.Forward(point);
        var (_, estimates) = series.Forward(point.expand(20_000, 3));
        double mean = estimates.mean().ToDouble(), standardError = estimates.std().ToDouble() / Math.Sqrt(20_000);
        double target = expected.ToDouble();
        Assert.True(standardError > 0, "The estimator should be stochastic.");
        Assert.True(Math.Abs(mean - target) < 4 * standardError + 1e-6,
            $"power-series mean {mean:F5} +- {standardError:F5} vs exact {target:F5}.");
        // The outputs agree exactly: only the log-det is estimated.
        Assert.Equal(0.0, exact.Forward(point).Output.sub(series.Forward(point).Output).abs().max().ToDouble(), 12);
    }

    [Fact]
    public void Should_Estimate_The_Truncated_Series_Which_Is_Biased_When_Truncated_Early()
    {
        using var scope = torch.NewDisposeScope();
        using var exact = Create(3, 0.95, ResidualLogDet.Exact, weightScale: 20.0);
        using var series = Create(3, 0.95, ResidualLogDet.PowerSeries, weightScale: 20.0);
        series.SeriesTerms = 1;
        var point = torch.randn(new long[] { 1, 3 }, dtype: ScalarType.Float64);
        double target = exact.Forward(point).LogAbsDet.ToDouble();
        var estimates = series.Forward(point.expand(40_000, 3)).LogAbsDet;
        double mean = estimates.mean().ToDouble(), standardError = estimates.std().ToDouble() / Math.Sqrt(40_000);
        // E[v^T J v] = tr(J) exactly: the truncated series, not log det(I + J) = tr(J) - tr(J^2) / 2 + ...
        double truncated = ResidualJacobian(exact, point)[0].trace().ToDouble();
        Assert.True(Math.Abs(mean - truncated) < 4 * standardError + 1e-9, $"one-term mean {mean:F5} +- {standardError:F5} vs truncated series {truncated:F5}.");
        Assert.True(Math.Abs(truncated - target) > 4 * standardError,
            $"the truncated series {truncated:F5} should differ from log det {target:F5} by more than the noise ({standardError:F5}).");
    }

    [Fact]
    public void Should_Reproduce_Estimates_When_Estimator_Seed_Repeats()
    {
        using var scope = torch.NewDisposeScope();
        using var a = Create(3, 0.9, ResidualLogDet.PowerSeries, estimatorSeed: 5);
        using var b = Create(3, 0.9, ResidualLogDet.PowerSeries, estimatorSeed: 5);
        using var c = Create(3, 0.9, ResidualLogDet.PowerSeries, estimatorSeed: 6);
        var x = torch.randn(new long[] { 64, 3 }, dtype: ScalarType.Float64);
        var la = a.Forward(x).LogAbsDet;
        Assert.Equal(0.0, la.sub(b.Forward(x).LogAbsDet).abs().max().ToDouble());
        Assert.True(la.sub(c.Forward(x).LogAbsDet).abs().max().ToDouble() > 1e-6, "A different estimator seed should give different probes.");
        Assert.True(la.sub(a.Forward(x).LogAbsDet).abs().max().ToDouble() > 1e-6, "Each call should draw fresh probes.");
    }

    [Fact]
    public void Should_Recover_Input_In_Float32_With_Default_Settings()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3);
        using var block = new ResidualBlock(4, new[] { 32, 32 }, generator: generator);
        block.eval();
        var x = torch.randn(new long[] { 256, 4 }, generator: generator).mul(3);
        var (y, _) = block.Forward(x);
        var (back, _) = block.Inverse(y);
        Assert.Equal(ScalarType.Float32, back.dtype);
        double error = back.sub(x).abs().max().ToDouble();
        Assert.True(error < 1e-4, $"inverse(forward(x)) is {error:E2} away from x.");
    }

    [Fact]
    public void Should_Carry_Implicit_Gradient_Through_Inverse_When_Using_Power_Series()
    {
        using var scope = torch.NewDisposeScope();
        using var exact = Create(3, 0.7, ResidualLogDet.Exact);
        using var series = Create(3, 0.7, ResidualLogDet.PowerSeries);
        series.SeriesTerms = 30;
        series.InverseTolerance = 1e-13;
        var y = torch.randn(new long[] { 5, 3 }, dtype: ScalarType.Float64);
        // d inverse / dy = (I + J_g)^-1: its log-determinant is minus the exact forward log-det at the preimage.
        var viaSeries = Jacobian.LogAbsDet(input => series.Inverse(input).Output, y);
        var expected = exact.Inverse(y).LogAbsDet;
        Assert.True(viaSeries.sub(expected).abs().max().ToDouble() < 1e-6, "The Neumann-series gradient of the inverse is off.");
    }

    [Fact]
    public void Should_Throw_Clear_Error_When_Fixed_Point_Does_Not_Converge()
    {
        using var scope = torch.NewDisposeScope();
        using var block = Create(3, 0.95, ResidualLogDet.Exact, weightScale: 20.0);
        block.InverseMaxIterations = 3;
        block.InverseTolerance = 1e-14;
        var y = torch.randn(new long[] { 8, 3 }, dtype: ScalarType.Float64).mul(3);
        var error = Assert.Throws<InvalidOperationException>(() => block.Inverse(y));
        Assert.Contains("did not converge", error.Message);
        Assert.Contains("after 3 fixed-point iterations", error.Message);
        Assert.Contains("InverseMaxIterations", error.Message);
    }

    [Fact]
    public void Should_Update_Power_Iteration_Vectors_Only_In_Training_Mode()
    {
        using var scope = torch.NewDisposeScope();
        using var block = Create(3, 0.9, ResidualLogDet.Exact, weightScale: 5.0);
        Tensor[] Vectors() => block.named_buffers().Select(b => b.buffer.clone()).ToArray();
        var x = torch.randn(new long[] { 4, 3 }, dtype: ScalarType.Float64);
        var before = Vectors();
        var first = block.Forward(x).Output;
        var second = block.Forward(x).Output;
        Assert.Equal(0.0, first.sub(second).abs().max().ToDouble());
        Assert.All(before.Zip(Vectors()), p => Assert.Equal(0.0, p.First.sub(p.Second).abs().max().ToDouble()));
        block.train();
        block.Forward(x);
        Assert.Contains(before.Zip(Vectors()), p => p.First.sub(p.Second).abs().max().ToDouble() > 1e-6);
    }

    [Fact]
    public void Should_Set_LogDet_Mode_Of_Every_Block_In_A_Flow()
    {
        using var flow = Flows.ResidualFlow(2, 3, new[] { 8 });
        Assert.Equal(3, ResidualBlock.SetLogDet(flow, ResidualLogDet.Exact));
        Assert.All(flow.modules().OfType<ResidualBlock>(), b => Assert.Equal(ResidualLogDet.Exact, b.LogDet));
    }

    [Fact]
    public void Should_Integrate_To_One_When_Residual_Flow_Uses_Exact_LogDet()
    {
        using var flow = Flows.ResidualFlow(2, 3, new[] { 16 }, logDet: ResidualLogDet.Exact, seed: 2);
        flow.to(ScalarType.Float64);
        using (var generator = new Generator(4))
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.2));
        flow.eval();
        double integral = Metrics.GridIntegral(flow, -12, 12, -12, 12, steps: 500);
        Assert.InRange(integral, 0.99, 1.01);
    }

    [Fact]
    public void Should_Agree_With_LogProb_When_Residual_Flow_Samples_With_LogProb()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.ResidualFlow(2, 3, new[] { 16 }, logDet: ResidualLogDet.Exact, seed: 2);
        flow.to(ScalarType.Float64);
        flow.eval();
        foreach (var block in flow.modules().OfType<ResidualBlock>()) block.InverseTolerance = 1e-12;
        using var generator = new Generator(6);
        var (x, logProb) = flow.SampleWithLogProb(300, generator: generator);
        Assert.True(flow.LogProb(x).sub(logProb).abs().max().ToDouble() < 1e-8, "Sampling log-densities differ from LogProb.");
    }

    [Fact]
    public void Should_Keep_Live_Tensor_Count_Flat_When_Training_And_Sampling_Residual_Flow()
    {
        using var flow = Flows.ResidualFlow(2, 2, new[] { 8 }, seed: 2);
        var target = new NormalizingFlows.Targets.Banana();
        long LiveAfter(int iterations)
        {
            DisposeScopeManager.Statistics.Reset();
            NormalizingFlows.Training.Fit.ToData(flow, target, new NormalizingFlows.Training.FitOptions { Iterations = iterations, BatchSize = 32 });
            for (int i = 0; i < iterations; i++) flow.Sample(16).Dispose();
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
        LiveAfter(3); // warm-up: lazily created state
        long few = LiveAfter(5);
        long many = LiveAfter(60);
        Assert.True(many <= few, $"Live tensors grew from {few} after 5 steps to {many} after 60 steps.");
    }

    [Fact]
    public void Should_Reject_Bad_Arguments()
    {
        Assert.Equal("lipschitzCoefficient", Assert.Throws<ArgumentOutOfRangeException>(() => new ResidualBlock(2, new[] { 8 }, 1.0)).ParamName);
        Assert.Equal("lipschitzCoefficient", Assert.Throws<ArgumentOutOfRangeException>(() => new ResidualBlock(2, new[] { 8 }, 0.0)).ParamName);
        var activation = Assert.Throws<ArgumentException>(() => new ResidualBlock(2, new[] { 8 }, activation: Activation.Gelu));
        Assert.Equal("activation", activation.ParamName);
        Assert.Contains("1-Lipschitz", activation.Message);
        Assert.Equal("hiddenFeatures", Assert.Throws<ArgumentException>(() => new ResidualBlock(2, Array.Empty<int>())).ParamName);
        using var block = new ResidualBlock(2, new[] { 8 });
        Assert.Equal("SeriesTerms", Assert.Throws<ArgumentOutOfRangeException>(() => block.SeriesTerms = 0).ParamName);
        Assert.Equal("InverseTolerance", Assert.Throws<ArgumentOutOfRangeException>(() => block.InverseTolerance = -1).ParamName);
        Assert.Equal("InverseMaxIterations", Assert.Throws<ArgumentOutOfRangeException>(() => block.InverseMaxIterations = 0).ParamName);
    }
}
