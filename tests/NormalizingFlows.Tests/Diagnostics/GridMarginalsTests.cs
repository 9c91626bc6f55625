using System;
using System.Linq;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using NormalizingFlows.Targets;
using TorchSharp;

namespace NormalizingFlows.Tests.Diagnostics;

/// <summary>Numerically integrated marginals against closed forms.</summary>
public sealed class GridMarginalsTests
{
    private static double Normal(double x, double mean, double std) => Math.Exp(-0.5 * Math.Pow((x - mean) / std, 2)) / (std * Math.Sqrt(2 * Math.PI));

    [Fact]
    public void Should_Recover_The_Gaussian_Marginal_Of_The_Banana_Target()
    {
        // Banana: x2 ~ N(0, 4^2), x1 | x2 ~ N(x2^2 / 4, 1): the marginal of x2 is exactly N(0, 16).
        var target = new Banana();
        var marginals = GridMarginals.Of(target, steps: 400);
        double worst = marginals.Y.Select((y, i) => Math.Abs(marginals.MarginalY[i] - Normal(y, 0, 4))).Max();
        Assert.True(worst < 2e-3, $"largest error {worst:E2}");
        Assert.Equal(1.0, marginals.MassInBox, 2);
        double dx = marginals.X[1] - marginals.X[0];
        Assert.Equal(1.0, marginals.MarginalX.Sum() * dx, 9);
    }

    [Fact]
    public void Should_Integrate_A_Model_Density_To_Its_Marginals()
    {
        using var model = new DiagonalGaussian(2);
        // A fresh DiagonalGaussian is N(0, I).
        var marginals = GridMarginals.Of(model, new Box(-6, 6, -6, 6), steps: 300);
        double worst = marginals.X.Select((x, i) => Math.Abs(marginals.MarginalX[i] - Normal(x, 0, 1))).Max();
        Assert.True(worst < 1e-3, $"largest error {worst:E2}");
        Assert.Equal(1.0, marginals.MassInBox, 4);
    }

    [Fact]
    public void Should_Reject_Models_That_Are_Not_Two_Dimensional()
    {
        using var model = new StandardNormal(3);
        Assert.Equal("model", Assert.Throws<ArgumentException>(() => GridMarginals.Of(model, new Box(-1, 1, -1, 1))).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => GridMarginals.Of(new Banana(), steps: 1)).ParamName);
    }
}
