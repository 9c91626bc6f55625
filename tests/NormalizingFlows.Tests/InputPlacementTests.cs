using System;
using System.Collections.Generic;
using System.Linq;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Diagnostics;
using NormalizingFlows.Distributions;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests;

/// <summary>Every public evaluation call checks the dtype and device of its tensors against the model's: a mismatch is an
/// <see cref="ArgumentException"/> naming both (never a native abort), the match evaluates.</summary>
public sealed class InputPlacementTests
{
    private const int ContextFeatures = 3;
    private const long Rows = 5;

    private static readonly ScalarType[] DTypes =
        { ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64, ScalarType.Bool };

    public static TheoryData<string> Models => new() { "RealNvp", "Maf", "NeuralSplineCoupling", "ConditionalMaf", "MultiscaleRealNvp" };

    /// <summary>Devices to hand inputs on: the CPU, the meta device (shapes without storage: a device the model is never on, on
    /// every machine) and CUDA where it is available.</summary>
    private static IEnumerable<Device> Devices()
    {
        yield return torch.CPU;
        yield return torch.META;
        if (torch.cuda.is_available()) yield return torch.CUDA;
    }

    private static Flow Build(string name) => name switch
    {
        "RealNvp" => Flows.RealNvp(2, 2, new[] { 8 }, seed: 1),
        "Maf" => Flows.Maf(2, 2, new[] { 8 }, seed: 1),
        "NeuralSplineCoupling" => Flows.NeuralSplineCoupling(2, 2, new[] { 8 }, seed: 1),
        "ConditionalMaf" => Flows.Maf(2, 2, new[] { 8 }, contextFeatures: ContextFeatures, seed: 1),
        "MultiscaleRealNvp" => Flows.MultiscaleRealNvp(1, 4, 4, scales: 2, stepsPerScale: 1, hiddenChannels: 4, seed: 1),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static Tensor Input(long[] shape, ScalarType dtype, Device device) =>
        dtype is ScalarType.Int64 or ScalarType.Bool || device.type == DeviceType.META
            ? torch.zeros(shape, dtype: dtype, device: device)
            : torch.rand(shape, dtype: dtype, device: device);

    private static string DeviceName(Device device) => device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, device.index)}" : device.type.ToString().ToLowerInvariant();

    /// <summary>Every public call that takes an input batch, by name, given the input and the context to pass.</summary>
    private static IEnumerable<(string Call, string ParamName, Action<Tensor, Tensor?> Run)> InputCalls(Flow flow)
    {
        yield return ("LogProb", "x", (x, c) => flow.LogProb(x, c).Dispose());
        yield return ("Bijector.Forward", "x", (x, c) => Dispose(flow.Bijector.Forward(x, c)));
        yield return ("Bijector.Inverse", "y", (x, c) => Dispose(flow.Bijector.Inverse(x, c)));
        yield return ("Trajectory", "z", (x, c) => Dispose(flow.Trajectory(x, c)));
        if (flow.Bijector is Chain chain) yield return ("Chain.ForwardTrajectory", "x", (x, c) => Dispose(chain.ForwardTrajectory(x, c)));
        if (flow.ContextFeatures == 0)
        {
            yield return ("Base.LogProb", "x", (x, _) => flow.Base.LogProb(x).Dispose());
            yield return ("Metrics.NegativeLogLikelihood", "data", (x, _) => Metrics.NegativeLogLikelihood(flow, x));
        }
    }

    /// <summary>Every public call that takes a context, given the context (and a right input where the call takes one).</summary>
    private static IEnumerable<(string Call, Action<Tensor, Tensor> Run)> ContextCalls(Flow flow)
    {
        yield return ("LogProb", (x, c) => flow.LogProb(x, c).Dispose());
        yield return ("Sample", (_, c) => flow.Sample(c.size(0), c).Dispose());
        yield return ("SampleWithLogProb", (_, c) => Dispose(flow.SampleWithLogProb(c.size(0), c)));
        yield return ("Bijector.Forward", (x, c) => Dispose(flow.Bijector.Forward(x, c)));
        yield return ("Bijector.Inverse", (x, c) => Dispose(flow.Bijector.Inverse(x, c)));
        yield return ("Trajectory", (x, c) => Dispose(flow.Trajectory(x, c)));
        if (flow.Base is ConditionalDiagonalGaussian gaussian) yield return ("Base.MeanAndScale", (_, c) => Dispose(gaussian.MeanAndScale(c)));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Should_Throw_ArgumentException_Naming_Both_When_An_Input_Has_Another_DType_Or_Device(string model)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Build(model);
        flow.eval();
        var shape = flow.EventShape.Prepend(Rows).ToArray();
        var context = flow.ContextFeatures == 0 ? null : torch.rand(Rows, ContextFeatures);
        int checkedCalls = 0;
        foreach (var (call, paramName, run) in InputCalls(flow))
        foreach (var dtype in DTypes)
        foreach (var device in Devices())
        {
            var x = Input(shape, dtype, device);
            if (dtype == ScalarType.Float32 && device.type == DeviceType.CPU)
            {
                run(x, context);
                continue;
            }
            var error = Assert.Throws<ArgumentException>(() => run(x, context));
            Assert.Equal(paramName, error.ParamName);
            Assert.Contains($"Expected {paramName} of dtype Float32 on cpu (the model's); got {dtype} on {DeviceName(device)}.", error.Message);
            checkedCalls++;
        }
        Assert.True(checkedCalls >= 4 * (DTypes.Length * Devices().Count() - 1), $"{model}: only {checkedCalls} mismatches checked.");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Should_Throw_ArgumentException_Naming_Both_When_A_Context_Has_Another_DType_Or_Device(string model)
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Build(model);
        if (flow.ContextFeatures == 0) return;
        flow.eval();
        var x = torch.rand(flow.EventShape.Prepend(Rows).ToArray());
        foreach (var (call, run) in ContextCalls(flow))
        foreach (var dtype in DTypes)
        foreach (var device in Devices())
        {
            var context = Input(new[] { Rows, (long)ContextFeatures }, dtype, device);
            if (dtype == ScalarType.Float32 && device.type == DeviceType.CPU)
            {
                run(x, context);
                continue;
            }
            var error = Assert.Throws<ArgumentException>(() => run(x, context));
            Assert.Equal("context", error.ParamName);
            Assert.Contains($"Expected context of dtype Float32 on cpu (the model's); got {dtype} on {DeviceName(device)}.", error.Message);
        }
    }

    [Fact]
    public void Should_Follow_The_Model_When_It_Is_Converted_With_To()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1);
        var single = torch.rand(4, 2);
        var @double = torch.rand(4, 2, dtype: ScalarType.Float64);
        Assert.Equal(ScalarType.Float32, flow.LogProb(single).dtype);
        Assert.Throws<ArgumentException>(() => flow.LogProb(@double));

        flow.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, flow.LogProb(@double).dtype);
        Assert.Equal(ScalarType.Float64, flow.Bijector.Forward(@double).Output.dtype);
        var error = Assert.Throws<ArgumentException>(() => flow.LogProb(single));
        Assert.Contains("Float64 on cpu (the model's); got Float32 on cpu", error.Message);
        Assert.Throws<ArgumentException>(() => flow.Bijector.Inverse(single));

        // A part converted on its own: the flow reads its placement again too.
        flow.Bijector.to(ScalarType.Float32);
        flow.Base.to(ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, flow.LogProb(single).dtype);
        Assert.Throws<ArgumentException>(() => flow.LogProb(@double));
    }

    [Fact]
    public void Should_Read_The_Placement_Again_When_A_Nested_TorchSharp_Layer_Was_Converted_Directly()
    {
        using var scope = torch.NewDisposeScope();
        using var coupling = Coupling.WithMlp(Masks.Halves(2), new[] { 4 });
        Assert.Equal(ScalarType.Float32, coupling.Forward(torch.rand(3, 2)).Output.dtype);
        // TorchSharp's own layers do not tell the library's modules that they moved: the cached placement is stale.
        foreach (var linear in coupling.modules().OfType<TorchSharp.Modules.Linear>()) linear.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, coupling.Forward(torch.rand(3, 2, dtype: ScalarType.Float64)).Output.dtype);
        var error = Assert.Throws<ArgumentException>(() => coupling.Forward(torch.rand(3, 2)));
        Assert.Contains("Expected x of dtype Float64 on cpu (the model's); got Float32 on cpu.", error.Message);
    }

    [Fact]
    public void Should_Take_Any_Floating_DType_When_A_Bijector_Has_No_Parameters()
    {
        using var scope = torch.NewDisposeScope();
        using var tanh = new Tanh(2);
        var single = torch.rand(3, 2);
        Assert.Equal(ScalarType.Float32, tanh.Forward(single).Output.dtype);
        Assert.Equal(ScalarType.Float64, tanh.Forward(single.to(ScalarType.Float64)).Output.dtype);
        var error = Assert.Throws<ArgumentException>(() => tanh.Inverse(torch.zeros(3, 2, dtype: ScalarType.Int64)));
        Assert.Equal("y", error.ParamName);
        Assert.Contains("Expected y of a floating-point dtype; got Int64 on cpu.", error.Message);
    }

    [Fact]
    public void Should_Throw_ArgumentException_When_Fit_Data_Has_Another_DType()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.RealNvp(2, 2, new[] { 8 }, seed: 1);
        var data = torch.rand(16, 2, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => NormalizingFlows.Training.Fit.ToData(flow, data, new NormalizingFlows.Training.FitOptions { Iterations = 1, BatchSize = 8 }));
        Assert.Equal("data", error.ParamName);
        Assert.Contains("Expected data of dtype Float32 on cpu (the model's); got Float64 on cpu.", error.Message);
    }

    private static void Dispose((Tensor, Tensor) pair)
    {
        pair.Item1.Dispose();
        pair.Item2.Dispose();
    }

    private static void Dispose(IEnumerable<Tensor> tensors)
    {
        foreach (var tensor in tensors) tensor.Dispose();
    }
}
