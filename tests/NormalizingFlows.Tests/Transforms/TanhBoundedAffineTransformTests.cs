using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Conditioners;
using NormalizingFlows.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Transforms;

/// <summary>The tanh-bounded affine transform: its learnable bound, and how a coupling owns it.</summary>
public sealed class TanhBoundedAffineTransformTests
{
    private static Coupling CreateCoupling(TanhBoundedAffineTransform transform) =>
        new(Masks.Halves(4), new Mlp(2, 4, new[] { 8 }, activation: Activation.Tanh), transform);

    [Fact]
    public void Should_Be_The_Identity_When_Parameters_Are_Zero_Whatever_The_Bound()
    {
        using var scope = torch.NewDisposeScope();
        using var transform = new TanhBoundedAffineTransform(3, initialBound: 0.25);
        var x = torch.randn(5, 3);
        var (y, logAbsDet) = transform.Forward(x, torch.zeros(5, 3, 2));
        Assert.Equal(0.0, y.sub(x).abs().max().ToDouble());
        Assert.Equal(0.0, logAbsDet.abs().max().ToDouble());
    }

    [Fact]
    public void Should_Keep_Each_Log_Scale_Within_Its_Bound()
    {
        using var scope = torch.NewDisposeScope();
        using var transform = new TanhBoundedAffineTransform(2, initialBound: 1.5);
        var raw = torch.tensor(new[] { 0f, 1e6f, 0f, -1e6f, 0f, 0.3f, 0f, -0.3f }).reshape(2, 2, 2);
        var (_, logAbsDet) = transform.Forward(torch.ones(2, 2), raw);
        var values = logAbsDet.reshape(-1).data<float>().ToArray();
        Assert.Equal(1.5, values[0], 5);
        Assert.Equal(-1.5, values[1], 5);
        Assert.Equal(1.5 * Math.Tanh(0.3 / 1.5), values[2], 5);
        using var bound = transform.Bound();
        Assert.All(bound.data<float>().ToArray(), c => Assert.Equal(1.5, c, 5));
    }

    [Fact]
    public void Should_Expose_The_Bound_Among_The_Coupling_Parameters()
    {
        using var coupling = CreateCoupling(new TanhBoundedAffineTransform(2));
        var names = coupling.named_parameters().Select(p => p.name).ToArray();
        Assert.Contains("transform.logBound", names);
        Assert.Contains("transform.logBound", coupling.state_dict().Keys);
        Assert.Contains(coupling.modules(), m => m is TanhBoundedAffineTransform);
    }

    [Fact]
    public void Should_Convert_The_Bound_With_The_Coupling_And_Train_It()
    {
        using var scope = torch.NewDisposeScope();
        using var coupling = CreateCoupling(new TanhBoundedAffineTransform(2));
        coupling.to(ScalarType.Float64);
        var bound = coupling.named_parameters().Single(p => p.name == "transform.logBound").parameter;
        Assert.Equal(ScalarType.Float64, bound.dtype);
        using (torch.no_grad())
            foreach (var p in coupling.parameters()) p.add_(torch.randn_like(p).mul(0.5));
        var x = torch.randn(new long[] { 16, 4 }, dtype: ScalarType.Float64);
        var (y, logAbsDet) = coupling.Forward(x);
        Assert.Equal(ScalarType.Float64, y.dtype);
        logAbsDet.sum().backward();
        Assert.True(bound.grad is not null && bound.grad.abs().sum().ToDouble() > 0, "The bound received no gradient.");
        using var optimizer = torch.optim.Adam(coupling.parameters(), 0.1);
        var before = bound.detach().clone();
        optimizer.step();
        Assert.True(bound.sub(before).abs().max().ToDouble() > 0, "The optimizer did not move the bound.");
    }

    [Fact]
    public void Should_Reject_A_Transform_Made_For_Another_Width()
    {
        using var transform = new TanhBoundedAffineTransform(3);
        var error = Assert.Throws<ArgumentException>(() => CreateCoupling(transform));
        Assert.Equal("transform", error.ParamName);
        Assert.Contains("2", error.Message);
        Assert.Contains("3", error.Message);
        using var x = torch.zeros(4, 2);
        using var parameters = torch.zeros(4, 2, 2);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => transform.Forward(x, parameters)).ParamName);
    }

    [Fact]
    public void Should_Reject_Bad_Constructor_Arguments()
    {
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => new TanhBoundedAffineTransform(0)).ParamName);
        Assert.Equal("initialBound", Assert.Throws<ArgumentOutOfRangeException>(() => new TanhBoundedAffineTransform(2, 0.0)).ParamName);
    }
}
