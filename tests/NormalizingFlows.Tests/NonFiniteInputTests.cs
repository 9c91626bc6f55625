using System;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>The one convention for non-finite input, across layer families: a row holding +-inf has log-density -inf, a row
/// holding a NaN has NaN, and the finite rows get what they get alone; through a bijector, a row holding NaN or +-inf has no
/// image (NaN output and log-det).</summary>
public sealed class NonFiniteInputTests
{
    public static TheoryData<string> Families => new() { "Coupling", "Maf", "Spline", "Residual", "Elementwise", "ConditionalCoupling" };

    private static Flow Build(string family) => family switch
    {
        "Coupling" => Flows.RealNvp(2, 2, new[] { 8 }, seed: 1),
        "Maf" => Flows.Maf(2, 2, new[] { 8 }, seed: 1),
        "Spline" => Flows.NeuralSplineCoupling(2, 2, new[] { 8 }, seed: 1),
        "Residual" => Flows.ResidualFlow(2, 2, new[] { 8 }, seed: 1),
        "Elementwise" => new Flow(new StandardNormal(2), new Chain(new ElementwiseAffine(2), new LeakyRelu(2), new Tanh(2))),
        "ConditionalCoupling" => Flows.NeuralSplineCoupling(2, 2, new[] { 8 }, contextFeatures: 1, seed: 1),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, null),
    };

    private static readonly float[,] Points =
    {
        { 0.1f, 0.2f },
        { float.PositiveInfinity, 0f },
        { 0f, float.NegativeInfinity },
        { float.NaN, 0f },
        { float.NaN, float.PositiveInfinity },
        { 0.3f, -0.4f },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Should_Give_Minus_Infinity_For_Infinite_Rows_And_NaN_For_NaN_Rows_When_Input_Is_Not_Finite(string family)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Build(family);
        flow.eval();
        var x = torch.tensor(Points);
        var context = flow.ContextFeatures == 0 ? null : torch.linspace(-1, 1, 6).reshape(6, 1);
        var logProb = flow.LogProb(x, context).data<float>().ToArray();

        Assert.True(float.IsNegativeInfinity(logProb[1]), $"{family}: +inf row gave {logProb[1]}.");
        Assert.True(float.IsNegativeInfinity(logProb[2]), $"{family}: -inf row gave {logProb[2]}.");
        Assert.True(float.IsNaN(logProb[3]), $"{family}: NaN row gave {logProb[3]}.");
        Assert.True(float.IsNaN(logProb[4]), $"{family}: NaN and inf row gave {logProb[4]}.");
        var finite = torch.tensor(new long[] { 0, 5 });
        var alone = flow.LogProb(x.index_select(0, finite), context?.index_select(0, finite)).data<float>().ToArray();
        Assert.True(float.IsFinite(alone[0]) && float.IsFinite(alone[1]), $"{family}: finite rows gave {alone[0]}, {alone[1]}.");
        Assert.Equal(alone[0], logProb[0], 5);
        Assert.Equal(alone[1], logProb[5], 5);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Should_Keep_Gradients_Of_Finite_Rows_When_Other_Rows_Are_Infinite(string family)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Build(family);
        var x = torch.tensor(Points).index_select(0, torch.tensor(new long[] { 0, 1, 2, 5 })).requires_grad_();
        var context = flow.ContextFeatures == 0 ? null : torch.linspace(-1, 1, 4).reshape(4, 1);
        var logProb = flow.LogProb(x, context);
        logProb.index_select(0, torch.tensor(new long[] { 0, 3 })).sum().backward();
        var gradient = x.grad!;
        Assert.True(gradient.isfinite().all().ToBoolean(), $"{family}: a gradient is not finite.");
        Assert.True(gradient[0].abs().sum().ToDouble() > 0, $"{family}: no gradient reached a finite row.");
        Assert.Equal(0.0, gradient[1].abs().sum().ToDouble());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Should_Give_NaN_Rows_From_Forward_And_Inverse_When_A_Row_Is_Not_Finite(string family)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Build(family);
        flow.eval();
        ResidualBlock.SetLogDet(flow, ResidualLogDet.Exact); // the stochastic estimate would differ between the two calls
        var x = torch.tensor(Points);
        var context = flow.ContextFeatures == 0 ? null : torch.linspace(-1, 1, 6).reshape(6, 1);
        var finite = torch.tensor(new long[] { 0, 5 });
        foreach (bool inverse in new[] { false, true })
        {
            string direction = inverse ? "Inverse" : "Forward";
            var (output, logAbsDet) = inverse ? flow.Bijector.Inverse(x, context) : flow.Bijector.Forward(x, context);
            var (aloneOutput, aloneLogAbsDet) = inverse
                ? flow.Bijector.Inverse(x.index_select(0, finite), context?.index_select(0, finite))
                : flow.Bijector.Forward(x.index_select(0, finite), context?.index_select(0, finite));
            for (long row = 1; row <= 4; row++)
            {
                Assert.True(output[row].isnan().all().ToBoolean(), $"{family} {direction}: row {row} of the output is not NaN.");
                Assert.True(logAbsDet[row].isnan().ToBoolean(), $"{family} {direction}: row {row}'s log-det is not NaN.");
            }
            Assert.True(aloneOutput.isfinite().all().ToBoolean() && aloneLogAbsDet.isfinite().all().ToBoolean(), $"{family} {direction}: finite rows gave non-finite results.");
            Assert.True(output.index_select(0, finite).sub(aloneOutput).abs().max().ToDouble() < 1e-5, $"{family} {direction}: finite rows differ from their results alone.");
            Assert.True(logAbsDet.index_select(0, finite).sub(aloneLogAbsDet).abs().max().ToDouble() < 1e-5, $"{family} {direction}: finite rows' log-dets differ from theirs alone.");
        }
    }

    [Fact]
    public void Should_Give_Minus_Infinity_When_Every_Row_Is_Infinite_Or_For_A_Base_Distribution()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Build("Coupling");
        var allInfinite = torch.tensor(new[,] { { float.PositiveInfinity, 0f }, { 1f, float.NegativeInfinity } });
        Assert.All(flow.LogProb(allInfinite).data<float>().ToArray(), v => Assert.True(float.IsNegativeInfinity(v)));
        using var gaussian = new DiagonalGaussian(2);
        var mixed = torch.tensor(new[,] { { float.PositiveInfinity, 0f }, { float.NaN, 1f }, { 0f, 0f } });
        var baseLogProb = gaussian.LogProb(mixed).data<float>().ToArray();
        Assert.True(float.IsNegativeInfinity(baseLogProb[0]));
        Assert.True(float.IsNaN(baseLogProb[1]));
        Assert.True(float.IsFinite(baseLogProb[2]));
    }

    [Fact]
    public void Should_Give_Infinite_Negative_Log_Likelihood_When_A_Row_Is_Infinite()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Build("Coupling");
        var x = torch.tensor(new[,] { { 0.5f, 0f }, { float.PositiveInfinity, 0f } });
        Assert.Equal(double.PositiveInfinity, Metrics.NegativeLogLikelihood(flow, x));
    }
}
