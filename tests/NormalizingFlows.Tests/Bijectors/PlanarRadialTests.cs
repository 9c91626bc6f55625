using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>Planar and radial flows: forward-only layers for variational inference. LogProb of arbitrary points fails
/// clearly; SampleWithLogProb matches a brute-force change of variables; the invertibility constraints hold.</summary>
public sealed class PlanarRadialTests
{
    private static Flow Create(string name, long seed = 1)
    {
        var flow = name == "planar" ? Flows.Planar(2, 6, seed) : Flows.Radial(2, 6, seed);
        flow.to(ScalarType.Float64);
        using var generator = new Generator((ulong)seed + 10);
        using (torch.no_grad())
            foreach (var p in flow.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.5));
        return flow;
    }

    [Theory]
    [InlineData("planar", "Planar")]
    [InlineData("radial", "Radial")]
    public void Should_Throw_NotSupported_Naming_The_Layer_When_LogProb_Is_Asked(string name, string layer)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Create(name);
        var error = Assert.Throws<NotSupportedException>(() => flow.LogProb(torch.zeros(new long[] { 4, 2 }, dtype: ScalarType.Float64)));
        Assert.StartsWith($"{layer} has no closed-form inverse", error.Message);
        Assert.Contains("SampleWithLogProb", error.Message);
        Assert.Throws<NotSupportedException>(() => flow.Bijector.Inverse(torch.zeros(new long[] { 4, 2 }, dtype: ScalarType.Float64)));
    }

    [Theory]
    [InlineData("planar")]
    [InlineData("radial")]
    public void Should_Match_Brute_Force_Change_Of_Variables_When_Sampling_With_LogProb(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Create(name);
        using var g1 = new Generator(21);
        using var g2 = new Generator(21);
        var (x, logProb) = flow.SampleWithLogProb(6, generator: g1);
        var z = flow.Base.Sample(6, generator: g2);                          // the same base draws
        Assert.True(flow.Bijector.Forward(z).Output.sub(x).abs().max().ToDouble() < 1e-12);
        // log q(x) = log p(z) - log|det dx/dz|, the Jacobian by autograd.
        var expected = flow.Base.LogProb(z).sub(Jacobian.LogAbsDet(input => flow.Bijector.Forward(input).Output, z));
        Assert.True(logProb.detach().sub(expected).abs().max().ToDouble() < 1e-9, "SampleWithLogProb disagrees with the change of variables.");
        Assert.True(logProb.requires_grad, "SampleWithLogProb must stay differentiable for variational inference.");
    }

    [Fact]
    public void Should_Keep_Planar_Invertible_When_U_Opposes_W()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new Planar(3);
        layer.to(ScalarType.Float64);
        var w = layer.named_parameters().Single(p => p.name == "w").parameter;
        var u = layer.named_parameters().Single(p => p.name == "u").parameter;
        using (torch.no_grad())
        {
            w.copy_(torch.tensor(new[] { 1.0, -2.0, 0.5 }, dtype: ScalarType.Float64));
            u.copy_(w.mul(-5.0));                                           // w . u = -26.25: unconstrained, the map would fold
        }
        var wDotUHat = layer.ConstrainedU().dot(w.detach()).ToDouble();
        Assert.True(wDotUHat > -1, $"w . u_hat = {wDotUHat}, must exceed -1.");
        // Along w the map is then strictly increasing: check the log-det is finite everywhere on a line through the hyperplane.
        var t = torch.linspace(-5, 5, 1001, dtype: ScalarType.Float64).unsqueeze(1);
        var points = t.mul(w.detach()).div(w.detach().dot(w.detach()));
        var (y, logAbsDet) = layer.Forward(points);
        Assert.True(logAbsDet.isfinite().all().ToBoolean());
        var projected = y.matmul(w.detach());
        Assert.True(projected.diff().gt(0).all().ToBoolean(), "The planar map folded: w . f(x) is not increasing along w.");
    }

    [Fact]
    public void Should_Keep_Radial_Invertible_When_Beta_Is_Very_Negative()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new Radial(2);
        layer.to(ScalarType.Float64);
        using (torch.no_grad())
        {
            layer.named_parameters().Single(p => p.name == "betaRaw").parameter.fill_(-20.0);   // beta = -alpha + 2e-9
            layer.named_parameters().Single(p => p.name == "center").parameter.zero_();
        }
        // Radial distances must stay ordered (the map is a monotone rescaling of r).
        var r = torch.linspace(1e-3, 5, 500, dtype: ScalarType.Float64).unsqueeze(1);
        var points = r.mul(torch.tensor(new[] { 0.6, 0.8 }, dtype: ScalarType.Float64));
        var (y, logAbsDet) = layer.Forward(points);
        Assert.True(logAbsDet.isfinite().all().ToBoolean());
        Assert.True(y.norm(1).diff().gt(0).all().ToBoolean(), "The radial map is not monotone in r.");
    }

    [Fact]
    public void Should_Reject_Bad_Feature_Counts()
    {
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => new Planar(0)).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => new Radial(-1)).ParamName);
        Assert.Equal("layers", Assert.Throws<ArgumentOutOfRangeException>(() => Flows.Planar(2, 0)).ParamName);
    }
}
