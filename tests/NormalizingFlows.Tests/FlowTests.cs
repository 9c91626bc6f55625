using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>Flow: the convention log q(x) = log p(f^-1(x)) + log|det J_f^-1|, identity at start, trajectories.</summary>
public sealed class FlowTests
{
    [Fact]
    public void Should_Refuse_A_Sample_Count_Beyond_Memory_Before_Allocating()
    {
        using var flow = Flows.RealNvp(2, 2, new[] { 8 });
        // 2^60 rows of two float32 values: 8 EiB, more than any machine this runs on; a count that fits still samples after it.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => flow.Sample(1L << 60));
        Assert.Equal("count", e.ParamName);
        Assert.Contains("samples of 2 Float32 values", e.Message);
        var both = Assert.Throws<ArgumentOutOfRangeException>(() => flow.SampleWithLogProb(1L << 60));
        Assert.Equal("count", both.ParamName);
        using var scope = torch.NewDisposeScope();
        Assert.Equal(new long[] { 10, 2 }, flow.Sample(10).shape);
    }

    [Fact]
    public void Should_Reject_A_Bijector_That_Changes_The_Event_Shape()
    {
        using var squeeze = new Squeeze(1, 4, 4);
        var error = Assert.Throws<ArgumentException>(() => new Flow(new StandardNormal(4, 2, 2), squeeze));
        Assert.Equal("bijector", error.ParamName);
        Assert.Contains("[4, 2, 2] to [1, 4, 4]", error.Message);
        using var roundTrip = new Chain(new Invert(new Squeeze(1, 4, 4)), new Squeeze(1, 4, 4));
        using var flow = new Flow(new StandardNormal(1, 4, 4), roundTrip);
        Assert.Equal(new long[] { 1, 4, 4 }, flow.EventShape);
    }

    [Fact]
    public void Should_Be_Identity_With_Zero_LogDet_When_Fresh_RealNvp()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 8, seed: 1, logScaleBound: null);
        var x = torch.randn(64, 2);
        var (y, logAbsDet) = flow.Bijector.Forward(x);
        Assert.Equal(0.0, y.sub(x).abs().max().ToDouble());
        Assert.Equal(0.0, logAbsDet.abs().max().ToDouble());
        var baseLogProb = flow.Base.LogProb(x);
        Assert.True(flow.LogProb(x).sub(baseLogProb).abs().max().ToDouble() < 1e-6);
        // The default, soft-clamped flow is the same identity, exactly, on the fused kernels' path as on the operations' (the
        // kernels' tanh of a zero log-scale is zero: CouplingKernel.KeepSmallArguments), with and without gradients.
        using var clamped = Flows.RealNvp(2, 8, seed: 1);
        foreach (bool gradients in new[] { false, true })
        {
            using var mode = torch.set_grad_enabled(gradients);
            var (yClamped, logAbsDetClamped) = clamped.Bijector.Forward(x);
            Assert.Equal(0.0, yClamped.sub(x).abs().max().ToDouble());
            Assert.Equal(0.0, logAbsDetClamped.abs().max().ToDouble());
        }
    }

    [Fact]
    public void Should_Be_A_Permutation_With_Zero_LogDet_When_Fresh_LuCoupling()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.LuCoupling(2, 16, seed: 1);
        var x = torch.randn(64, 2);
        var (y, logAbsDet) = flow.Bijector.Forward(x);
        Assert.True(logAbsDet.abs().max().ToDouble() < 1e-6);
        // Couplings are the identity and LU layers are pure permutations at start: the rows keep their values.
        var sortedX = x.sort(1).Values;
        var sortedY = y.sort(1).Values;
        Assert.True(sortedX.sub(sortedY).abs().max().ToDouble() < 1e-5);
    }

    [Fact]
    public void Should_Add_Inverse_LogDet_To_Base_LogProb()
    {
        using var scope = torch.NewDisposeScope();
        var baseDistribution = new DiagonalGaussian(3, trainable: false, loc: new[] { 0.1, 0.2, 0.3 }, scale: new[] { 1.0, 2.0, 0.5 });
        var bijector = new LuLinear(3);
        using (torch.no_grad())
            foreach (var p in bijector.parameters()) p.add_(torch.randn(p.shape).mul(0.3));
        using var flow = new Flow(baseDistribution, bijector);
        var x = torch.randn(10, 3);
        var (z, logAbsDet) = bijector.Inverse(x);
        var expected = baseDistribution.LogProb(z).add(logAbsDet);
        Assert.True(flow.LogProb(x).sub(expected).abs().max().ToDouble() < 1e-5);
    }

    [Fact]
    public void Should_Return_Every_Layer_Output_When_Tracing_Trajectory()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 4, seed: 2);
        var generator = new Generator(17);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, generator: generator).mul(0.1));
        var z = torch.randn(new long[] { 32, 2 }, generator: generator);
        var path = flow.Trajectory(z);
        Assert.Equal(5, path.Count);
        Assert.Equal(0.0, path[0].sub(z).abs().max().ToDouble());
        var (x, _) = flow.Bijector.Forward(z);
        // The trajectory runs without gradients, where a one-input layer is computed elementwise rather than by a matrix
        // product: the same values up to float32 rounding, relative to their size.
        double scale = 1 + x.abs().max().ToDouble();
        double difference = path[^1].sub(x).abs().max().ToDouble();
        Assert.True(difference < 1e-6 * scale, $"trajectory end differs from Forward by {difference} at scale {scale}");
        Assert.All(path, p => Assert.Equal(new long[] { 32, 2 }, p.shape));
    }

    [Fact]
    public void Should_Give_Minus_Infinity_Not_NaN_When_Inverse_Overflows_Far_From_Data()
    {
        using var scope = torch.NewDisposeScope();
        // A coupling whose log-scale is -100 sends y to about e^100 |y - t|, beyond float32 range;
        // the LU layer before it then mixes +inf and -inf into NaN.
        var coupling = Coupling.WithMlp(Masks.Halves(2), new[] { 4 });
        var lu = new LuLinear(2);
        using (torch.no_grad())
        {
            var last = (TorchSharp.Modules.Linear)((NormalizingFlows.Conditioners.Mlp)coupling.Conditioner).modules().OfType<TorchSharp.Modules.Linear>().Last();
            last.bias![1] = torch.tensor(-100f);
            lu.named_parameters().Single(p => p.name == "lower").parameter[1, 0] = torch.tensor(1f);
        }
        using var flow = new Flow(new StandardNormal(2), new Chain(lu, coupling));
        var x = torch.tensor(new[] { 0f, 3f, 0.1f, 0.0f }).reshape(2, 2);
        var (raw, _) = flow.Bijector.Inverse(x);
        Assert.True(raw.isnan().any().ToBoolean() || raw.isinf().any().ToBoolean(), "The set-up should overflow.");
        var logProb = flow.LogProb(x).data<float>().ToArray();
        Assert.All(logProb, v => Assert.False(float.IsNaN(v)));
        Assert.True(float.IsNegativeInfinity(logProb[0]));
        var nanInput = torch.tensor(new[] { float.NaN, 0f }).reshape(1, 2);
        Assert.True(float.IsNaN(flow.LogProb(nanInput).data<float>()[0]), "A NaN input must not be hidden as -inf.");
    }

    [Fact]
    public void Should_Reject_Mismatched_Event_Shapes()
    {
        var error = Assert.Throws<ArgumentException>(() => new Flow(new StandardNormal(2), new LuLinear(3)));
        Assert.Contains("[2]", error.Message);
        Assert.Contains("[3]", error.Message);
    }

    [Fact]
    public void Should_Reject_Chain_Of_Layers_With_Different_Widths()
    {
        var error = Assert.Throws<ArgumentException>(() => new Chain(new LuLinear(2), new LuLinear(3)));
        Assert.Equal("layers", error.ParamName);
        Assert.Contains("Layer 1", error.Message);
    }

    [Fact]
    public void Should_Reject_Masks_That_Leave_Nothing_To_Transform()
    {
        var error = Assert.Throws<ArgumentException>(() => Coupling.WithMlp(new[] { false, false }, new[] { 8 }));
        Assert.Equal("mask", error.ParamName);
        Assert.Throws<ArgumentException>(() => Coupling.WithMlp(new[] { true, true }, new[] { 8 }));
    }

    [Fact]
    public void Should_Reject_Invalid_Permutation_Order()
    {
        var error = Assert.Throws<ArgumentException>(() => new Permutation(new long[] { 0, 0, 2 }));
        Assert.Contains("entry 1", error.Message);
    }
}
