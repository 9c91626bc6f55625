using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NormalizingFlows.Distributions;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Support;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>The maximum-likelihood loop: learning, skipping non-finite steps, reproducibility, errors, memory.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FitTests
{
    private static readonly FitOptions Short = new() { Iterations = 20, BatchSize = 64, LearningRate = 1e-2, Seed = 1 };

    [Fact]
    public void Should_Learn_Mean_And_Scale_When_Fitting_Diagonal_Gaussian_To_Data()
    {
        var target = new GaussianTarget(new[] { 2.0, -1.0 }, new[] { 0.5, 3.0 });
        using var model = new DiagonalGaussian(2);
        using var generator = new Generator(3);
        using var data = target.Sample(20_000, generator);
        var result = Fit.ToData(model, data, new FitOptions { Iterations = 1500, BatchSize = 512, LearningRate = 2e-2, Seed = 4 });
        double kl = NormalizingFlows.Diagnostics.Metrics.KlDivergence(target, model, 100_000);
        Assert.True(kl < 0.005, $"KL = {kl:F4} after fitting a Gaussian to Gaussian data.");
        Assert.Equal(1500, result.Iterations);
        Assert.Equal(0, result.SkippedSteps);
    }

    [Fact]
    public void Should_Reproduce_Losses_When_Seed_Repeats()
    {
        double[] Run()
        {
            using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 5);
            return Fit.ToData(flow, new Banana(), Short).Losses.ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Should_Skip_And_Count_NonFinite_Steps_Without_Touching_Parameters()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 5);
        var target = new Banana();
        var snapshots = new List<double[]>();
        int call = 0;
        Tensor Sampler(long count, Generator g)
        {
            call++;
            var x = target.Sample(count, g);
            if (call is 3 or 4) x[0, 0] = torch.tensor(float.NaN);
            if (call == 7) x[1, 1] = torch.tensor(float.PositiveInfinity);
            return x;
        }
        double[] Parameters() => flow.parameters().SelectMany(p => p.detach().reshape(-1).data<float>().ToArray().Select(v => (double)v)).ToArray();

        var result = Fit.ToData(flow, Sampler, Short with { Iterations = 2 });
        var before = Parameters();
        call = 2; // the next two steps get NaN data
        var skipped = Fit.ToData(flow, Sampler, Short with { Iterations = 2 });
        Assert.Equal(2, skipped.SkippedSteps);
        Assert.All(skipped.Losses, l => Assert.False(double.IsFinite(l)));
        Assert.Equal(before, Parameters());
        Assert.True(Parameters().All(double.IsFinite));
        var after = Fit.ToData(flow, Sampler, Short with { Iterations = 3 });
        Assert.Equal(1, after.SkippedSteps);
        Assert.True(Parameters().All(double.IsFinite));
    }

    [Fact]
    public void Should_Name_Row_And_Column_When_Data_Contains_NaN()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        var data = torch.randn(100, 2);
        data[42, 1] = torch.tensor(float.NaN);
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(flow, data, Short));
        Assert.Equal("data", error.ParamName);
        Assert.Contains("row 42", error.Message);
        Assert.Contains("column 1", error.Message);
    }

    [Fact]
    public void Should_Name_Shapes_When_Data_Has_Wrong_Width()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(flow, torch.randn(100, 3), Short));
        Assert.Equal("Expected data with shape [batch, 2]; got [100, 3]. (Parameter 'data')", error.Message);
    }

    [Fact]
    public void Should_Reject_Empty_Data()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(flow, torch.zeros(0, 2), Short));
        Assert.Contains("at least one row", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Should_Reject_NonPositive_Batch_Size(int batchSize)
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit.ToData(flow, new Banana(), Short with { BatchSize = batchSize }));
        Assert.Equal("BatchSize", error.ParamName);
        Assert.Contains($"got {batchSize}", error.Message);
    }

    [Fact]
    public void Should_Reject_NonPositive_Iterations_And_Learning_Rate()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        Assert.Equal("Iterations", Assert.Throws<ArgumentOutOfRangeException>(() => Fit.ToData(flow, new Banana(), Short with { Iterations = 0 })).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => Fit.ToData(flow, new Banana(), Short with { LearningRate = double.NaN })).ParamName);
        Assert.Equal("WeightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => Fit.ToData(flow, new Banana(), Short with { WeightDecay = -1 })).ParamName);
    }

    [Fact]
    public void Should_Reject_Target_Of_Other_Width()
    {
        using var flow = Flows.RealNvp(3, 2, new[] { 8 });
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(flow, new Banana(), Short));
        Assert.Equal("target", error.ParamName);
    }

    [Fact]
    public void Should_Report_Progress_And_Stop_When_Cancelled()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        using var cancellation = new CancellationTokenSource();
        var reports = new List<TrainingProgress>();
        var progress = new SynchronousProgress(p =>
        {
            reports.Add(p);
            if (p.Iteration == 30) cancellation.Cancel();
        });
        var result = Fit.ToData(flow, new Banana(), Short with { Iterations = 100, ProgressInterval = 10 }, progress, cancellation.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(30, result.Iterations);
        Assert.Equal(new[] { 10, 20, 30 }, reports.Select(r => r.Iteration));
        Assert.All(reports, r => Assert.Equal(100, r.Iterations));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss)));
    }

    [Fact]
    public void Should_Keep_Live_Tensor_Count_Flat_Over_Many_Steps()
    {
        using var flow = Flows.LuCoupling(2, 4, new[] { 16 }, seed: 2);
        var target = new Banana();
        long LiveAfter(int iterations)
        {
            DisposeScopeManager.Statistics.Reset();
            Fit.ToData(flow, target, Short with { Iterations = iterations });
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
        LiveAfter(5); // warm-up: lazily created state
        long few = LiveAfter(10);
        long many = LiveAfter(300);
        Assert.True(many <= few, $"Live tensors grew from {few} after 10 steps to {many} after 300 steps.");
    }

    [Fact]
    public void Should_Learn_Conditional_Gaussian_When_Fitting_Pairs()
    {
        // x | c ~ N(c * [1, -1], 0.5^2 I) with c ~ U[-2, 2]: a conditional flow must move its mass with c.
        const double sigma = 0.5;
        (Tensor, Tensor) Pairs(long count, Generator g)
        {
            using var scope = torch.NewDisposeScope();
            var c = torch.rand(count, 1, generator: g).mul(4).sub(2);
            var mean = torch.cat(new[] { c, c.neg() }, 1);
            var x = torch.randn(count, 2, generator: g).mul(sigma).add(mean);
            return scope.MoveToOuter(x, c);
        }
        using var g0 = new Generator(3);
        var layers = Enumerable.Range(0, 4).Select(i => (NormalizingFlows.Bijector)NormalizingFlows.Bijectors.Coupling.WithMlp(
            NormalizingFlows.Bijectors.Masks.Alternating(2, i % 2), new[] { 32, 32 }, contextFeatures: 1, generator: g0)).ToList();
        layers.Add(new NormalizingFlows.Bijectors.LuLinear(2));
        using var flow = new Flow(new StandardNormal(2), new NormalizingFlows.Bijectors.Chain(layers));
        Assert.Equal(1, flow.ContextFeatures);
        var result = Fit.ToData(flow, Pairs, new FitOptions { Iterations = 800, BatchSize = 256, LearningRate = 3e-3, Seed = 5 });
        Assert.Equal(0, result.SkippedSteps);

        using var scope = torch.NewDisposeScope();
        using var g = new Generator(99);
        var (x, c) = Pairs(50_000, g);
        var mean = torch.cat(new[] { c, c.neg() }, 1);
        var logP = x.sub(mean).div(sigma).square().sum(1).mul(-0.5).sub(2 * Math.Log(sigma) + Math.Log(2 * Math.PI));
        double kl;
        using (torch.no_grad()) kl = logP.sub(flow.LogProb(x, c)).mean().ToDouble();
        Assert.True(kl < 0.03, $"KL(p(x|c) || q(x|c)) = {kl:F4} nats, expected below 0.03.");

        // The same model refuses to train without contexts, and in-memory pairs work too.
        Assert.Throws<ArgumentException>(() => Fit.ToData(flow, new Banana(), Short));
        var more = Fit.ToData(flow, x, c, Short);
        Assert.Equal(Short.Iterations, more.Iterations);
        var error = Assert.Throws<ArgumentException>(() => Fit.ToData(flow, x, c.narrow(0, 0, 10), Short));
        Assert.Equal("context", error.ParamName);
    }

    /// <summary>40 rows of integer levels 0..3 in two columns, float32.</summary>
    private static Tensor Levels()
    {
        using var generator = new Generator(21);
        return torch.randint(0, 4, new long[] { 40, 2 }, generator: generator).to(ScalarType.Float32);
    }

    [Fact]
    public void Should_Transform_Every_Training_Batch_Afresh_And_The_Validation_Rows_Once_With_Seed_Plus_One()
    {
        using var data = Levels();
        var options = new FitOptions { Iterations = 6, BatchSize = 40, LearningRate = 1e-2, Seed = 7, ValidationFraction = 0.25, ValidationInterval = 1 };
        var inputs = new List<Tensor>();
        var noises = new List<Tensor>();
        Tensor AddNoise(Tensor x, Generator g)
        {
            var noise = torch.rand(x.shape, generator: g);
            inputs.Add(x.detach().clone().DetachFromDisposeScope());
            noises.Add(noise.detach().clone().DetachFromDisposeScope());
            return x.add(noise);
        }
        FitResult result;
        double[] losses;
        using (var model = new DiagonalGaussian(2))
        {
            result = Fit.ToData(model, data, options with { BatchTransform = AddNoise });

            // The validation rows (the first quarter of the permutation seeded with Seed) got one draw, from a generator seeded Seed + 1;
            // the model now holds the weights of the best validation loss, which was computed on exactly those values.
            long held = 10;
            using var splitGenerator = new Generator((ulong)options.Seed);
            using var permutation = torch.randperm(data.size(0), ScalarType.Int64, generator: splitGenerator);
            using var validationRows = data.index_select(0, permutation.narrow(0, 0, held));
            using var validationGenerator = new Generator((ulong)options.Seed + 1);
            using var validationNoise = torch.rand(validationRows.shape, generator: validationGenerator);
            using var validation = validationRows.add(validationNoise);
            Assert.True(result.RestoredBest);
            Assert.Equal(result.Best.Loss, NormalizingFlows.Diagnostics.Metrics.NegativeLogLikelihood(model, validation), 5);
            losses = result.Losses.ToArray();
        }
        Assert.Equal(1 + options.Iterations, inputs.Count);
        Assert.Equal(new long[] { 10, 2 }, inputs[0].shape);
        Assert.Equal(options.Iterations, result.Validation.Count);
        for (int i = 1; i < inputs.Count; i++)
        {
            // Every step transforms raw training rows (never an earlier transform's output), with noise it has not drawn before.
            Assert.Equal(new long[] { 30, 2 }, inputs[i].shape);
            Assert.True(inputs[i].equal(inputs[i].round()).all().item<bool>(), $"step {i}: the transform got values that are not the raw levels");
            for (int j = 1; j < i; j++) Assert.False(noises[i].equal(noises[j]).all().item<bool>(), $"steps {j} and {i} got the same noise");
        }
        foreach (var t in inputs.Concat(noises)) t.Dispose();

        // The same seed gives the same fit.
        using var again = new DiagonalGaussian(2);
        Assert.Equal(losses, Fit.ToData(again, data, options with { BatchTransform = (x, g) => x.add(torch.rand(x.shape, generator: g)) }).Losses);
    }

    [Fact]
    public void Should_Name_BatchTransform_When_It_Returns_Another_Shape_Or_Is_Set_For_A_Sampler_Or_A_Density()
    {
        using var data = Levels();
        using var model = new DiagonalGaussian(2);
        var wrong = Assert.Throws<ArgumentException>(() => Fit.ToData(model, data, Short with { BatchTransform = (x, _) => x.narrow(1, 0, 1) }));
        Assert.Contains("BatchTransform", wrong.Message);
        Assert.Contains("[batch, 2]", wrong.Message);

        var noisy = Short with { BatchTransform = (x, g) => x.add(torch.rand(x.shape, generator: g)) };
        var sampler = Assert.Throws<ArgumentException>(() => Fit.ToData(model, (count, g) => torch.randn(count, 2, generator: g), noisy));
        Assert.Equal("options", sampler.ParamName);
        Assert.Contains("BatchTransform", sampler.Message);
        var density = Assert.Throws<ArgumentException>(() => Fit.ToDensity(model, x => x.pow(2).sum(1).neg(), noisy));
        Assert.Equal("options", density.ParamName);
        Assert.Contains("BatchTransform", density.Message);
    }
}
