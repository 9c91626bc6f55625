using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Ode;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

public sealed class ContinuousFlowTests
{
    private static ContinuousFlow Perturbed(DivergenceEstimator divergence, int features = 3, long seed = 1)
    {
        using var generator = new Generator((ulong)seed);
        var flow = new ContinuousFlow(features, new[] { 16, 16 }, divergence: divergence, generator: generator, estimatorSeed: 5);
        flow.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        flow.eval();
        return flow;
    }

    private static Tensor Points(int features, long rows = 6) =>
        torch.randn(new[] { rows, (long)features }, dtype: ScalarType.Float64, generator: new Generator(9));

    [Fact]
    public void Should_Be_The_Identity_When_Fresh()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = new ContinuousFlow(3, new[] { 8 });
        var x = torch.randn(5, 3);
        var (y, logDet) = flow.Forward(x);
        Assert.Equal(0, y.sub(x).abs().max().item<float>());
        Assert.Equal(0, logDet.abs().max().item<float>());
    }

    [Theory]
    [InlineData(10, DivergenceEstimator.Exact)]
    [InlineData(11, DivergenceEstimator.HutchinsonRademacher)]
    public void Should_Choose_Exact_Divergence_Up_To_Ten_Features(int features, DivergenceEstimator expected)
    {
        using var flow = new ContinuousFlow(features, new[] { 4 });
        Assert.Equal(expected, flow.Divergence);
        Assert.Equal(expected != DivergenceEstimator.Exact, flow.LogDetIsEstimate);
    }

    [Theory]
    [InlineData(DivergenceEstimator.HutchinsonGaussian)]
    [InlineData(DivergenceEstimator.HutchinsonRademacher)]
    public void Should_Report_An_Estimate_And_Be_Exact_Inside_An_Exact_Evaluation_Scope(DivergenceEstimator estimator)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed(estimator);
        using var exact = Perturbed(DivergenceEstimator.Exact);
        var x = Points(3);
        Assert.True(flow.LogDetIsEstimate);
        var (_, reference) = exact.Forward(x);
        using (var evaluation = ExactEvaluation.Enter(flow))
        {
            Assert.True(evaluation.IsExact);
            Assert.False(flow.LogDetIsEstimate);
            var (_, logDet) = flow.Forward(x);
            Assert.True(logDet.sub(reference).abs().max().item<double>() < 1e-12);
        }
        Assert.True(flow.LogDetIsEstimate);
        Assert.Equal(estimator, flow.Divergence);
    }

    [Theory]
    [InlineData(DivergenceEstimator.HutchinsonGaussian)]
    [InlineData(DivergenceEstimator.HutchinsonRademacher)]
    public void Should_Estimate_The_Exact_LogDet_Without_Bias_When_Averaging_Hutchinson_Probes(DivergenceEstimator estimator)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed(estimator);
        using var exact = Perturbed(DivergenceEstimator.Exact);
        var x = Points(3, rows: 1).expand(400, 3).contiguous();
        var (_, reference) = exact.Forward(x.narrow(0, 0, 1));
        // 400 rows of the same point: 400 independent probes in one call.
        var (_, estimates) = flow.Forward(x);
        double mean = estimates.mean().item<double>();
        double standardError = estimates.std().item<double>() / Math.Sqrt(400);
        Assert.True(standardError > 0, "the estimates should vary between probes");
        Assert.True(Math.Abs(mean - reference.item<double>()) < 4 * standardError,
            $"mean {mean:F4} vs exact {reference.item<double>():F4} (standard error {standardError:F4})");
    }

    [Fact]
    public void Should_Repeat_Hutchinson_Estimates_When_Loaded_From_A_Model_File()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed(DivergenceEstimator.HutchinsonRademacher);
        flow.Method = OdeMethod.RungeKutta4;
        flow.FixedSteps = 7;
        var bytes = ModelFile.ToBytes(flow);
        var x = Points(3);
        var (_, first) = flow.Forward(x);
        using var loaded = ModelFile.FromBytes<ContinuousFlow>(bytes, "cnf");
        Assert.Equal(OdeMethod.RungeKutta4, loaded.Method);
        Assert.Equal(7, loaded.FixedSteps);
        Assert.Equal(DivergenceEstimator.HutchinsonRademacher, loaded.Divergence);
        Assert.Equal(5, loaded.EstimatorSeed);
        // The loaded flow's probe generator restarts from the seed, as the fresh one did for its first call.
        var (_, again) = loaded.Forward(x);
        Assert.True(first.eq(again).all().item<bool>());
        Assert.Equal(28, loaded.LastFunctionEvaluations);
    }

    [Theory]
    [InlineData(DivergenceEstimator.Exact)]
    [InlineData(DivergenceEstimator.HutchinsonRademacher)]
    public void Should_Give_The_Same_LogDets_Under_Inference_Mode_And_No_Grad(DivergenceEstimator estimator)
    {
        // The divergence needs autograd inside the integration even when the caller has switched it off.
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed(estimator);
        using var twin = Perturbed(estimator);
        var x = Points(3);
        var (y, logDet) = flow.Inverse(x);
        Tensor yInference, logDetInference;
        using (torch.inference_mode()) (yInference, logDetInference) = twin.Inverse(x);
        Assert.Equal(0, y.sub(yInference).abs().max().item<double>());
        Assert.Equal(0, logDet.sub(logDetInference).abs().max().item<double>());
        using (torch.no_grad())
        {
            var (_, again) = Perturbed(estimator).Inverse(x);
            Assert.Equal(0, logDet.sub(again).abs().max().item<double>());
        }
        Assert.True(logDet.requires_grad);
        Assert.False(logDetInference.requires_grad);
    }

    [Fact]
    public void Should_Transport_Like_Forward_And_Inverse_Without_The_LogDet()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed(DivergenceEstimator.Exact);
        flow.Method = OdeMethod.RungeKutta4;
        var x = Points(3);
        var (y, _) = flow.Forward(x);
        // A fixed grid: the state's steps are the same with or without the divergence beside it.
        Assert.True(flow.Transport(x).sub(y).abs().max().item<double>() < 1e-12);
        var (z, _) = flow.Inverse(x);
        Assert.True(flow.Transport(x, inverse: true).sub(z).abs().max().item<double>() < 1e-12);
        Assert.Equal(4 * flow.FixedSteps, flow.LastFunctionEvaluations);
    }

    [Fact]
    public void Should_Report_Function_Evaluations_Of_The_Adaptive_Solver()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed(DivergenceEstimator.Exact);
        flow.Forward(Points(3));
        Assert.True(flow.LastSteps >= 1);
        Assert.True(flow.LastFunctionEvaluations >= 2 + 6 * flow.LastSteps, $"{flow.LastFunctionEvaluations} evaluations for {flow.LastSteps} steps");
        int loose = flow.LastFunctionEvaluations;
        flow.RelativeTolerance = 1e-9;
        flow.AbsoluteTolerance = 1e-9;
        flow.Forward(Points(3));
        Assert.True(flow.LastFunctionEvaluations > loose);
    }

    [Fact]
    public void Should_Throw_The_Step_Limit_When_MaxSteps_Is_Too_Small()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Perturbed(DivergenceEstimator.Exact);
        flow.RelativeTolerance = 1e-10;
        flow.AbsoluteTolerance = 1e-10;
        flow.MaxSteps = 2;
        var error = Assert.Throws<OdeStepLimitException>(() => flow.Inverse(Points(3)));
        Assert.Contains("MaxSteps", error.Message);
    }

    [Fact]
    public void Should_Name_The_Time_Shape_When_It_Is_Wrong()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = new ContinuousFlow(2, new[] { 4 });
        var error = Assert.Throws<ArgumentException>(() => flow.Velocity(torch.zeros(3, 2), torch.zeros(3, 1)));
        Assert.Equal("time", error.ParamName);
        Assert.Contains("[3]", error.Message);
        Assert.Contains("[3, 1]", error.Message);
    }

    [Fact]
    public void Should_Reject_Out_Of_Range_Settings_With_The_Property_Name()
    {
        using var flow = new ContinuousFlow(2, new[] { 4 });
        Assert.Equal("RelativeTolerance", Assert.Throws<ArgumentOutOfRangeException>(() => flow.RelativeTolerance = 0).ParamName);
        Assert.Equal("MaxSteps", Assert.Throws<ArgumentOutOfRangeException>(() => flow.MaxSteps = ContinuousFlow.StepLimit + 1).ParamName);
        Assert.Equal("FixedSteps", Assert.Throws<ArgumentOutOfRangeException>(() => flow.FixedSteps = 0).ParamName);
    }
}
