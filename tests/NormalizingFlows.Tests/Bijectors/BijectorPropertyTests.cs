using System;
using System.Linq;
using NormalizingFlows.Serialization;
using NormalizingFlows.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Bijectors;

/// <summary>The property suite every bijector in <see cref="BijectorRegistry"/> passes, in float64.</summary>
public sealed class BijectorPropertyTests
{
    private const long Batch = 7;

    /// <summary>The perturbed float64 bijector, a base-side input for Forward, a data-side input for Inverse, and a context.</summary>
    private static (Bijector Bijector, Tensor BaseX, Tensor DataY, Tensor? Context, BijectorCase Case) Setup(string name, long seed = 1)
    {
        var testCase = BijectorRegistry.Get(name);
        var bijector = BijectorRegistry.CreatePerturbed(testCase, seed);
        using var generator = new Generator((ulong)(seed + 100));
        var draws = torch.randn(testCase.BatchShape(Batch), dtype: ScalarType.Float64, generator: generator).mul(1.5);
        var context = testCase.ContextFeatures == 0 ? null
            : torch.randn(new long[] { Batch, testCase.ContextFeatures }, dtype: ScalarType.Float64, generator: generator);
        // A reshaping bijector (a squeeze) takes data-side inputs of another shape: draw those separately.
        var dataDraws = testCase.OutputShape is null ? draws
            : torch.randn(testCase.OutputBatchShape(Batch), dtype: ScalarType.Float64, generator: generator).mul(1.5);
        return (bijector, testCase.BaseInput(draws), testCase.DataInput(dataDraws), context, testCase);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double error = expected.sub(actual).abs().max().ToDouble();
        Assert.True(error <= tolerance * (1 + expected.abs().max().ToDouble()), $"{what}: max abs difference {error:E3} exceeds {tolerance:E1}.");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Report_An_Exact_LogDet_When_Registered(string name)
    {
        // The suite checks every registered log-det against the autograd Jacobian: none of them may call itself an estimate.
        using var generator = new Generator(1);
        using var bijector = BijectorRegistry.Get(name).Create(generator);
        Assert.False(bijector.LogDetIsEstimate, $"{name} says its log-det is an estimate, but the suite checks it as exact.");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.InvertibleNames), MemberType = typeof(BijectorRegistry))]
    public void Should_Recover_Input_When_Inverse_Follows_Forward(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, _, context, testCase) = Setup(name);
        using var _ = bijector;
        var (y, forwardLogDet) = bijector.Forward(x, context);
        var (back, inverseLogDet) = bijector.Inverse(y, context);
        AssertClose(x, back, testCase.RoundTripTolerance, "inverse(forward(x)) vs x");
        AssertClose(forwardLogDet.neg(), inverseLogDet, testCase.RoundTripTolerance, "inverse log-det vs minus forward log-det");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.InvertibleNames), MemberType = typeof(BijectorRegistry))]
    public void Should_Recover_Output_When_Forward_Follows_Inverse(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, _, y, context, testCase) = Setup(name);
        using var _ = bijector;
        var (x, inverseLogDet) = bijector.Inverse(y, context);
        var (back, forwardLogDet) = bijector.Forward(x, context);
        AssertClose(y, back, testCase.RoundTripTolerance, "forward(inverse(y)) vs y");
        AssertClose(inverseLogDet.neg(), forwardLogDet, testCase.RoundTripTolerance, "forward log-det vs minus inverse log-det");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Match_Autograd_Jacobian_When_Computing_Forward_LogAbsDet(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, _, context, testCase) = Setup(name);
        using var _ = bijector;
        var expected = Jacobian.LogAbsDet(input => bijector.Forward(input, context).Output, x);
        var (_, logAbsDet) = bijector.Forward(x, context);
        AssertClose(expected, logAbsDet.detach(), testCase.LogDetTolerance, "forward log-det vs autograd log|det J|");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.InvertibleNames), MemberType = typeof(BijectorRegistry))]
    public void Should_Match_Autograd_Jacobian_When_Computing_Inverse_LogAbsDet(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, _, y, context, testCase) = Setup(name);
        using var _ = bijector;
        var expected = Jacobian.LogAbsDet(input => bijector.Inverse(input, context).Output, y);
        var (_, logAbsDet) = bijector.Inverse(y, context);
        AssertClose(expected, logAbsDet.detach(), testCase.LogDetTolerance, "inverse log-det vs autograd log|det J|");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Keep_Batch_And_Event_Shapes(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, data, context, testCase) = Setup(name);
        using var _ = bijector;
        var (y, forwardLogDet) = bijector.Forward(x, context);
        Assert.Equal(testCase.OutputBatchShape(Batch), y.shape);
        Assert.Equal(new[] { Batch }, forwardLogDet.shape);
        Assert.Equal(ScalarType.Float64, y.dtype);
        Assert.Equal(ScalarType.Float64, forwardLogDet.dtype);
        if (!testCase.HasInverse) return;
        var (z, inverseLogDet) = bijector.Inverse(data, context);
        Assert.Equal(testCase.BatchShape(Batch), z.shape);
        Assert.Equal(new[] { Batch }, inverseLogDet.shape);
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Return_Fresh_Tensors_When_Called(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, data, context, testCase) = Setup(name);
        using var _ = bijector;
        var (y, logAbsDet) = bijector.Forward(x, context);
        Assert.False(ReferenceEquals(x, y), "Forward returned its input object.");
        y.Dispose();
        logAbsDet.Dispose();
        Assert.False(x.IsInvalid, "Disposing the output disposed the input.");
        if (!testCase.HasInverse) return;
        var (z, _) = bijector.Inverse(data, context);
        z.Dispose();
        Assert.False(data.IsInvalid, "Disposing the inverse output disposed the input.");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Reach_Every_Parameter_When_Backpropagating(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, data, context, testCase) = Setup(name);
        using var _ = bijector;
        if (!bijector.parameters().Any()) return; // nothing to train (e.g. a fixed permutation)
        var (y, logAbsDet) = testCase.HasInverse ? bijector.Inverse(data, context) : bijector.Forward(x, context);
        y.square().sum().add(logAbsDet.sum()).backward();
        foreach (var (parameterName, parameter) in bijector.named_parameters())
        {
            Assert.True(parameter.grad is not null, $"{parameterName} received no gradient.");
            Assert.True(parameter.grad!.abs().sum().ToDouble() > 0, $"{parameterName} received an all-zero gradient.");
        }
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Name_Expected_And_Actual_Shape_When_Features_Are_Wrong(string name)
    {
        using var scope = torch.NewDisposeScope();
        var testCase = BijectorRegistry.Get(name);
        using var bijector = BijectorRegistry.CreatePerturbed(testCase);
        var wrong = torch.zeros(testCase.WrongBatchShape(3), dtype: ScalarType.Float64);
        var context = testCase.ContextFeatures == 0 ? null : torch.zeros(new long[] { 3, testCase.ContextFeatures }, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => bijector.Forward(wrong, context));
        Assert.Equal("x", error.ParamName);
        Assert.Contains(testCase.EventShapeText, error.Message);
        Assert.Contains("[" + string.Join(", ", testCase.WrongBatchShape(3)) + "]", error.Message);
        if (!testCase.HasInverse) return;
        var inverseError = Assert.Throws<ArgumentException>(() => bijector.Inverse(wrong, context));
        Assert.Equal("y", inverseError.ParamName);
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Reject_Empty_Batch(string name)
    {
        using var scope = torch.NewDisposeScope();
        var testCase = BijectorRegistry.Get(name);
        using var bijector = BijectorRegistry.CreatePerturbed(testCase);
        var empty = torch.zeros(testCase.BatchShape(0), dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => bijector.Forward(empty));
        Assert.Contains("at least one row", error.Message);
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.ConditionalNames), MemberType = typeof(BijectorRegistry))]
    public void Should_Depend_On_Context_When_Conditional(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, _, context, _) = Setup(name);
        using var _ = bijector;
        var (y1, _) = bijector.Forward(x, context);
        var (y2, _) = bijector.Forward(x, context!.add(1.0));
        Assert.True(y1.sub(y2).abs().max().ToDouble() > 1e-6, "Changing the context did not change the output.");
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.ConditionalNames), MemberType = typeof(BijectorRegistry))]
    public void Should_Name_Both_Widths_When_Context_Is_Wrong_Or_Missing(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, _, context, _) = Setup(name);
        using var _ = bijector;
        int width = (int)context!.shape[1];
        var missing = Assert.Throws<ArgumentException>(() => bijector.Forward(x));
        Assert.Equal("context", missing.ParamName);
        Assert.Contains(width.ToString(), missing.Message);
        var wrong = torch.zeros(new long[] { Batch, width + 2 }, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => bijector.Forward(x, wrong));
        Assert.Contains($"[{Batch}, {width}]", error.Message);
        Assert.Contains($"[{Batch}, {width + 2}]", error.Message);
    }

    [Theory]
    [MemberData(nameof(BijectorRegistry.Names), MemberType = typeof(BijectorRegistry))]
    public void Should_Give_Identical_Outputs_And_LogDets_When_Saved_And_Loaded(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (bijector, x, data, context, testCase) = Setup(name);
        using var _ = bijector;
        using var loaded = ModelFile.FromBytes<Bijector>(ModelFile.ToBytes(bijector), name);
        Assert.Equal(bijector.GetType(), loaded.GetType());
        Assert.False(loaded.training, "A loaded bijector should be in evaluation mode.");
        var state = loaded.state_dict();
        Assert.Equal(bijector.state_dict().Keys.Order(), state.Keys.Order());
        foreach (var (key, tensor) in bijector.state_dict())
        {
            Assert.Equal(tensor.dtype, state[key].dtype);
            Assert.True(tensor.eq(state[key]).all().item<bool>(), $"State tensor '{key}' differs after loading.");
        }
        var (y, forwardLogDet) = bijector.Forward(x, context);
        var (loadedY, loadedForwardLogDet) = loaded.Forward(x, context);
        AssertIdentical(y, loadedY, "forward output");
        AssertIdentical(forwardLogDet, loadedForwardLogDet, "forward log-det");
        if (!testCase.HasInverse) return;
        var (z, inverseLogDet) = bijector.Inverse(data, context);
        var (loadedZ, loadedInverseLogDet) = loaded.Inverse(data, context);
        AssertIdentical(z, loadedZ, "inverse output");
        AssertIdentical(inverseLogDet, loadedInverseLogDet, "inverse log-det");
    }

    private static void AssertIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(ScalarType.Float64, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        double error = expected.sub(actual).abs().max().ToDouble();
        Assert.True(expected.eq(actual).all().item<bool>(), $"{what} differs after saving and loading: max abs difference {error:E3}.");
    }

    [Fact]
    public void Should_Give_Every_Registry_Case_A_Unique_Name()
    {
        var duplicates = BijectorRegistry.Cases.GroupBy(c => c.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(duplicates.Length == 0, $"Duplicate case names: {string.Join(", ", duplicates)}.");
        Assert.NotEmpty(BijectorRegistry.Cases);
    }

    [Fact]
    public void Should_Register_Every_Bijector_Type_In_The_Property_Suite()
    {
        var registered = BijectorRegistry.Cases.SelectMany(c =>
        {
            using var generator = new Generator(1);
            using var bijector = c.Create(generator);
            return bijector.modules().Prepend(bijector).Select(m => m.GetType()).ToArray();
        }).ToHashSet();
        var all = typeof(Bijector).Assembly.GetTypes()
            .Where(t => typeof(Bijector).IsAssignableFrom(t) && !t.IsAbstract && t.IsPublic);
        var missing = all.Where(t => !registered.Contains(t)).Select(t => t.Name).ToArray();
        Assert.True(missing.Length == 0, $"Bijectors missing from BijectorRegistry: {string.Join(", ", missing)}.");
    }
}
