using System;
using System.Linq;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Distributions;

/// <summary>The Gaussian baselines: the full-covariance Gaussian's density against the textbook formula, and both closed-form
/// maximum-likelihood fits recovering the mean and covariance that generated the data.</summary>
public sealed class GaussianFitTests
{
    // A 3-D covariance with strong correlations (eigenvalues far apart), as the known truth.
    private static readonly double[] TrueMean = { 1.0, -2.0, 0.5 };
    private static readonly double[,] TrueCovariance = { { 2.0, 1.2, -0.6 }, { 1.2, 1.5, -0.3 }, { -0.6, -0.3, 0.8 } };

    private static Tensor Covariance() => torch.tensor(new[] { 2.0, 1.2, -0.6, 1.2, 1.5, -0.3, -0.6, -0.3, 0.8 }, new long[] { 3, 3 });

    /// <summary>Rows drawn from N(TrueMean, TrueCovariance) with the Cholesky factor computed here (not by the class under test).</summary>
    private static Tensor Draw(long rows, long seed)
    {
        using var generator = new Generator((ulong)seed);
        var factor = torch.linalg.cholesky(Covariance());
        var eps = torch.randn(new long[] { rows, 3 }, dtype: ScalarType.Float64, generator: generator);
        return eps.matmul(factor.t()).add(torch.tensor(TrueMean));
    }

    [Fact]
    public void Should_Match_The_Textbook_Density_When_Covariance_Is_Full()
    {
        using var scope = torch.NewDisposeScope();
        var covariance = Covariance();
        using var d = new MultivariateGaussian(torch.tensor(TrueMean), torch.linalg.cholesky(covariance));
        var x = Draw(50, 3).mul(1.5);
        // log N(x) = -(x - mu)^T S^-1 (x - mu) / 2 - log det(2 pi S) / 2, with S^-1 from a general inverse.
        var diff = x.sub(torch.tensor(TrueMean));
        var quadratic = diff.matmul(torch.linalg.inv(covariance)).mul(diff).sum(1);
        double logDet = torch.linalg.slogdet(covariance.mul(2 * Math.PI)).Item2.ToDouble();
        var expected = quadratic.mul(-0.5).sub(0.5 * logDet);
        var actual = d.LogProb(x);
        Assert.Equal(ScalarType.Float64, actual.dtype);
        Assert.True(actual.sub(expected).abs().max().ToDouble() < 1e-10, "LogProb differs from the textbook formula.");
    }

    [Fact]
    public void Should_Recover_A_Known_Covariance_When_Fitted_In_Closed_Form()
    {
        using var scope = torch.NewDisposeScope();
        var data = Draw(200_000, 7);
        using var fitted = MultivariateGaussian.FitTo(data);
        Assert.False(fitted.Trainable);
        Assert.Empty(fitted.parameters());
        Assert.Equal(ScalarType.Float64, fitted.Loc.dtype);
        var mean = fitted.Loc.data<double>().ToArray();
        var covariance = fitted.Covariance;
        for (int i = 0; i < 3; i++)
        {
            Assert.InRange(mean[i], TrueMean[i] - 0.01, TrueMean[i] + 0.01);
            for (int j = 0; j < 3; j++)
                Assert.InRange(covariance[i, j].ToDouble(), TrueCovariance[i, j] - 0.02, TrueCovariance[i, j] + 0.02);
        }
        // The factor is lower triangular and reproduces the covariance.
        var factor = fitted.ScaleTril;
        Assert.Equal(0.0, factor.triu(1).abs().max().ToDouble());
        Assert.True(factor.matmul(factor.t()).sub(covariance).abs().max().ToDouble() < 1e-12);
    }

    [Fact]
    public void Should_Equal_The_Sample_Moments_Exactly_When_Fitted_With_No_Ridge()
    {
        using var scope = torch.NewDisposeScope();
        var data = Draw(500, 8);
        using var fitted = MultivariateGaussian.FitTo(data, ridge: 0);
        var centred = data.sub(data.mean(new long[] { 0 }));
        var sampleCovariance = centred.t().matmul(centred).div(500);
        Assert.True(fitted.Covariance.sub(sampleCovariance).abs().max().ToDouble() < 1e-12);
        // The maximum-likelihood Gaussian has mean log-likelihood -(D/2)(1 + log 2 pi) - log det(S)/2 on its own data.
        double expected = -1.5 * (1 + Math.Log(2 * Math.PI)) - 0.5 * torch.linalg.slogdet(sampleCovariance).Item2.ToDouble();
        Assert.Equal(expected, fitted.LogProb(data).mean().ToDouble(), 10);
    }

    [Fact]
    public void Should_Beat_The_Diagonal_Fit_When_Data_Are_Correlated()
    {
        using var scope = torch.NewDisposeScope();
        var train = Draw(5_000, 9);
        var test = Draw(5_000, 10);
        using var full = MultivariateGaussian.FitTo(train);
        using var diagonal = DiagonalGaussian.FitTo(train);
        double fullNll = -full.LogProb(test).mean().ToDouble();
        double diagonalNll = -diagonal.LogProb(test).mean().ToDouble();
        // Exact gap for the true parameters: (sum log diag(S) - log det S) / 2 = 0.44 nats; allow sampling error.
        double trueGap = 0.5 * (Math.Log(2.0 * 1.5 * 0.8) - torch.linalg.slogdet(Covariance()).Item2.ToDouble());
        Assert.InRange(diagonalNll - fullNll, trueGap - 0.05, trueGap + 0.05);
    }

    [Fact]
    public void Should_Recover_Mean_And_Standard_Deviation_When_Diagonal_Gaussian_Is_Fitted()
    {
        using var scope = torch.NewDisposeScope();
        var data = Draw(200_000, 11).to(ScalarType.Float32);
        using var fitted = DiagonalGaussian.FitTo(data);
        Assert.False(fitted.Trainable);
        Assert.Equal(ScalarType.Float32, fitted.Loc.dtype);
        var mean = fitted.Loc.data<float>().ToArray();
        var scale = fitted.Scale.data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.InRange(mean[i], TrueMean[i] - 0.01, TrueMean[i] + 0.01);
            double trueScale = Math.Sqrt(TrueCovariance[i, i]);
            Assert.InRange(scale[i], trueScale - 0.01, trueScale + 0.01);
        }
    }

    [Fact]
    public void Should_Train_Both_Mean_And_Factor_When_Trainable()
    {
        using var scope = torch.NewDisposeScope();
        using var d = MultivariateGaussian.FitTo(Draw(100, 12), trainable: true);
        Assert.True(d.Trainable);
        Assert.Equal(3, d.parameters().Count());
        var loss = d.LogProb(Draw(10, 13).to(ScalarType.Float64)).mean().neg();
        loss.backward();
        foreach (var p in d.parameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().ToDouble() > 0, "A parameter got no gradient.");
    }

    [Fact]
    public void Should_Name_The_Problem_When_Arguments_Are_Bad()
    {
        using var scope = torch.NewDisposeScope();
        var shape = Assert.Throws<ArgumentException>(() => MultivariateGaussian.FitTo(torch.zeros(10)));
        Assert.Equal("data", shape.ParamName);
        Assert.StartsWith("Expected data with shape [rows, features]; got [10].", shape.Message);
        var constant = Assert.Throws<ArgumentException>(() => MultivariateGaussian.FitTo(torch.ones(10, 2)));
        Assert.Contains("constant", constant.Message);
        var oneRow = Assert.Throws<ArgumentException>(() => DiagonalGaussian.FitTo(torch.ones(1, 2)));
        Assert.Contains("at least 2 rows; got 1", oneRow.Message);
        var nonFinite = Assert.Throws<ArgumentException>(() => DiagonalGaussian.FitTo(torch.tensor(new[] { 1f, 2f, float.NaN, 4f }, new long[] { 2, 2 })));
        Assert.Contains("row 1, column 0", nonFinite.Message);
        var diagonal = Assert.Throws<ArgumentException>(() => new MultivariateGaussian(torch.zeros(2), torch.tensor(new[] { 1f, 0f, 0.5f, -1f }, new long[] { 2, 2 })));
        Assert.Equal("scaleTril", diagonal.ParamName);
        Assert.Contains("scaleTril[1, 1] = -1", diagonal.Message);
        var upper = Assert.Throws<ArgumentException>(() => new MultivariateGaussian(torch.zeros(2), torch.tensor(new[] { 1f, 0.2f, 0f, 1f }, new long[] { 2, 2 })));
        Assert.Contains("lower-triangular", upper.Message);
        var width = Assert.Throws<ArgumentException>(() => new MultivariateGaussian(torch.zeros(2), torch.eye(3)));
        Assert.StartsWith("Expected scaleTril with shape [2, 2]; got [3, 3].", width.Message);
    }
}
