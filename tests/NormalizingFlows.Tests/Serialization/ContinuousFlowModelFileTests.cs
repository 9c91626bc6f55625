using System;
using System.Text.Json.Nodes;
using NormalizingFlows.Bijectors;
using NormalizingFlows.Ode;
using NormalizingFlows.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Serialization;

/// <summary>Model files of continuous flows: settings survive, crafted descriptions fail before anything is allocated.</summary>
public sealed class ContinuousFlowModelFileTests : IDisposable
{
    private readonly TemporaryDirectory directory = new();
    private readonly string path;

    public ContinuousFlowModelFileTests()
    {
        path = directory.File("cnf.nflow");
        using var flow = Flows.Continuous(2, new[] { 8 }, contextFeatures: 1, seed: 1);
        var continuous = (ContinuousFlow)flow.Bijector;
        continuous.Method = OdeMethod.Euler;
        continuous.FixedSteps = 9;
        continuous.RelativeTolerance = 1e-7;
        continuous.Divergence = DivergenceEstimator.HutchinsonGaussian;
        ModelFiles.Perturb(flow);
        flow.Save(path);
    }

    public void Dispose() => directory.Dispose();

    [Fact]
    public void Should_Keep_Solver_Settings_And_Give_Identical_Log_Probs_When_Loaded()
    {
        using var scope = torch.NewDisposeScope();
        using var first = Flow.Load(path);
        using var second = Flow.Load(path);
        var continuous = Assert.IsType<ContinuousFlow>(first.Bijector);
        Assert.Equal(OdeMethod.Euler, continuous.Method);
        Assert.Equal(9, continuous.FixedSteps);
        Assert.Equal(1e-7, continuous.RelativeTolerance);
        Assert.Equal(DivergenceEstimator.HutchinsonGaussian, continuous.Divergence);
        Assert.True(first.LogProbIsEstimate);
        var x = torch.randn(new long[] { 20, 2 }, generator: new Generator(3));
        var c = torch.randn(new long[] { 20, 1 }, generator: new Generator(4));
        // Two loads draw the same Hutchinson probes (the generator restarts from the saved seed).
        Assert.True(ModelFiles.Identical(first.LogProb(x, c), second.LogProb(x, c)));
    }

    [Fact]
    public void Should_Reject_A_Crafted_Width_Before_Building_The_Velocity_Network()
    {
        ModelFiles.EditArchitecture(path, text =>
        {
            var root = JsonNode.Parse(text)!;
            Visit(root, o => { if (o["type"]?.GetValue<string>() == "ContinuousFlow") o["hiddenFeatures"] = new JsonArray(5000, 5000); });
            return root.ToJsonString();
        });
        var error = Assert.Throws<ModelFileException>(() => Flow.Load(path).Dispose());
        Assert.Contains("parameters but weights.bin holds only", error.Message);
    }

    [Fact]
    public void Should_Name_The_Setting_When_A_Saved_Step_Count_Is_Out_Of_Range()
    {
        ModelFiles.EditArchitecture(path, text =>
        {
            var root = JsonNode.Parse(text)!;
            Visit(root, o => { if (o["type"]?.GetValue<string>() == "ContinuousFlow") o["fixedSteps"] = 0; });
            return root.ToJsonString();
        });
        var error = Assert.Throws<ModelFileException>(() => Flow.Load(path).Dispose());
        Assert.Contains("FixedSteps", error.Message);
    }

    private static void Visit(JsonNode? node, Action<JsonObject> edit)
    {
        if (node is JsonObject obj)
        {
            edit(obj);
            foreach (var (_, value) in obj) Visit(value, edit);
        }
        else if (node is JsonArray array)
        {
            foreach (var item in array) Visit(item, edit);
        }
    }
}
