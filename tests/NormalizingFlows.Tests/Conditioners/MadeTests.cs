using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Conditioners;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Conditioners;

/// <summary>MADE: the autoregressive property, measured on the autograd Jacobian, the output layout, zero start, context, arguments.</summary>
public sealed class MadeTests
{
    private const long Batch = 16;

    public static IEnumerable<object[]> Configurations => new[]
    {
        new object[] { "natural", 4, new[] { 16, 16 }, null!, false, 0, 2 },
        new object[] { "reversed", 4, new[] { 16, 16 }, Made.ReversedOrder(4), false, 0, 2 },
        new object[] { "custom order", 5, new[] { 12, 20, 12 }, new[] { 3, 0, 4, 1, 2 }, false, 0, 3 },
        new object[] { "one hidden layer", 3, new[] { 8 }, null!, false, 0, 23 },
        new object[] { "residual", 4, new[] { 16, 16, 16 }, new[] { 1, 3, 0, 2 }, true, 0, 2 },
        new object[] { "context", 4, new[] { 16, 16 }, Made.ReversedOrder(4), false, 3, 2 },
        new object[] { "residual context", 3, new[] { 12, 12 }, null!, true, 2, 5 },
        new object[] { "one feature with context", 1, new[] { 8 }, null!, false, 2, 2 },
    };

    private static Made Perturbed(int features, int[] hidden, int[]? order, bool residual, int context, int parameters, long seed = 3)
    {
        using var generator = new Generator((ulong)seed);
        var made = new Made(features, parameters, hidden, context, order, residual, generator: generator);
        made.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in made.parameters()) p.add_(torch.randn(p.shape, dtype: p.dtype, generator: generator).mul(0.3));
        return made;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Should_Make_Parameters_Of_Each_Feature_Depend_Only_On_Earlier_Features(string name, int features, int[] hidden, int[]? order, bool residual, int context, int parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var made = Perturbed(features, hidden, order, residual, context, parameters);
        var rank = order ?? Made.NaturalOrder(features);
        using var generator = new Generator(5);
        var x = torch.randn(new long[] { Batch, features }, dtype: ScalarType.Float64, generator: generator).requires_grad_(true);
        var c = context == 0 ? null : torch.randn(new long[] { Batch, context }, dtype: ScalarType.Float64, generator: generator);
        var output = made.call(x, c).view(Batch, features, parameters);
        for (int i = 0; i < features; i++)
        {
            for (int k = 0; k < parameters; k++)
            {
                // x.sum() * 0 keeps x in the graph when an output depends on no feature at all (the first in the order).
                var grad = torch.autograd.grad(new[] { output[.., i, k].sum().add(x.sum().mul(0.0)) }, new[] { x }, retain_graph: true)[0];
                var dependence = grad.abs().sum(new long[] { 0 }).data<double>().ToArray();
                for (int j = 0; j < features; j++)
                {
                    if (rank[j] >= rank[i])
                        Assert.True(dependence[j] == 0.0, $"{name}: parameter {k} of feature {i} (rank {rank[i]}) depends on feature {j} (rank {rank[j]}): {dependence[j]:E3}.");
                    else
                        Assert.True(dependence[j] > 0.0, $"{name}: parameter {k} of feature {i} (rank {rank[i]}) does not see earlier feature {j} (rank {rank[j]}).");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Should_Let_Every_Feature_Depend_On_The_Context_When_Conditional(string name, int features, int[] hidden, int[]? order, bool residual, int context, int parameters)
    {
        if (context == 0) return;
        using var scope = torch.NewDisposeScope();
        using var made = Perturbed(features, hidden, order, residual, context, parameters);
        using var generator = new Generator(6);
        var x = torch.randn(new long[] { Batch, features }, dtype: ScalarType.Float64, generator: generator);
        var c = torch.randn(new long[] { Batch, context }, dtype: ScalarType.Float64, generator: generator).requires_grad_(true);
        var output = made.call(x, c).view(Batch, features, parameters);
        for (int i = 0; i < features; i++)
        {
            var grad = torch.autograd.grad(new[] { output[.., i, ..].sum() }, new[] { c }, retain_graph: true)[0];
            Assert.True(grad.abs().sum().ToDouble() > 0, $"{name}: feature {i} does not depend on the context.");
        }
    }

    public static IEnumerable<object[]> RankConfigurations => Configurations.Append(
        new object[] { "hidden narrower than the degrees", 6, new[] { 3, 4 }, new[] { 5, 2, 0, 4, 1, 3 }, false, 0, 2 });

    [Theory]
    [MemberData(nameof(RankConfigurations))]
    public void Should_Give_Each_Ranks_Parameters_Through_Its_Sub_Network_As_The_Whole_Network_Does(string name, int features, int[] hidden, int[]? order, bool residual, int context, int parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var made = Perturbed(features, hidden, order, residual, context, parameters);
        using var generator = new Generator(7);
        var x = torch.randn(new long[] { Batch, features }, dtype: ScalarType.Float64, generator: generator);
        var c = context == 0 ? null : torch.randn(new long[] { Batch, context }, dtype: ScalarType.Float64, generator: generator);
        using var noGrad = torch.no_grad();
        var expected = made.call(x, c).view(Batch, features, parameters);
        var passes = made.BeginRankPasses(c, Batch);
        var rank = order ?? Made.NaturalOrder(features);
        for (int k = 0; k < features; k++)
        {
            // The features in rank order; the columns from rank k on hold large noise, which the pass must not read.
            var ranked = torch.randn(new long[] { Batch, features }, dtype: ScalarType.Float64, generator: generator).mul(1e3);
            for (int j = 0; j < features; j++)
                if (rank[j] < k) ranked[.., rank[j]] = x[.., j];
            int feature = passes.FeatureAtRank(k);
            Assert.Equal(k, rank[feature]);
            double difference = passes.Parameters(ranked, k).sub(expected[.., feature, ..]).abs().max().ToDouble();
            Assert.True(difference < 1e-12, $"{name}: rank {k} (feature {feature}) differs from the whole network by {difference:E3}.");
        }
    }

    [Fact]
    public void Should_Output_Zero_When_Fresh()
    {
        using var scope = torch.NewDisposeScope();
        using var made = new Made(3, 4, new[] { 8, 8 }, contextFeatures: 2);
        var output = made.call(torch.randn(10, 3), torch.randn(10, 2));
        Assert.Equal(new long[] { 10, 12 }, output.shape);
        Assert.Equal(0.0, output.abs().max().ToDouble());
    }

    [Fact]
    public void Should_Report_Its_Widths_And_Order()
    {
        using var made = new Made(4, 3, new[] { 8 }, contextFeatures: 2, order: Made.ReversedOrder(4));
        Assert.Equal(4, made.InFeatures);
        Assert.Equal(12, made.OutFeatures);
        Assert.Equal(2, made.ContextFeatures);
        Assert.Equal(new[] { 3, 2, 1, 0 }, made.Order);
        Assert.Equal(new[] { 0, 1, 2 }, Made.NaturalOrder(3));
    }

    [Fact]
    public void Should_Reject_An_Order_That_Is_Not_A_Permutation()
    {
        var error = Assert.Throws<ArgumentException>(() => new Made(3, 2, new[] { 8 }, order: new[] { 0, 2, 2 }));
        Assert.Equal("order", error.ParamName);
        Assert.Contains("entry 2 is 2", error.Message);
        var length = Assert.Throws<ArgumentException>(() => new Made(3, 2, new[] { 8 }, order: new[] { 0, 1 }));
        Assert.Contains("3 ranks", length.Message);
    }

    [Fact]
    public void Should_Reject_Bad_Widths()
    {
        Assert.Equal("hiddenFeatures", Assert.Throws<ArgumentException>(() => new Made(3, 2, Array.Empty<int>())).ParamName);
        Assert.Equal("hiddenFeatures", Assert.Throws<ArgumentOutOfRangeException>(() => new Made(3, 2, new[] { 8, 0 })).ParamName);
        var residual = Assert.Throws<ArgumentException>(() => new Made(3, 2, new[] { 8, 16 }, residual: true));
        Assert.Contains("[8, 16]", residual.Message);
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => new Made(0, 2, new[] { 8 })).ParamName);
        Assert.Equal("parametersPerFeature", Assert.Throws<ArgumentOutOfRangeException>(() => new Made(3, 0, new[] { 8 })).ParamName);
    }
}
