using NormalizingFlows.Bijectors;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>The validation loss that early stopping follows is exact where affordable: a 2-D residual flow's is the same on every
/// call (not a fresh Hutchinson estimate) and equals its exact-mode NLL.</summary>
public sealed class ValidationSetTests
{
    [Fact]
    public void Should_Give_The_Exact_Deterministic_Loss_When_The_Model_Is_A_2D_Residual_Flow()
    {
        using var scope = torch.NewDisposeScope();
        using var flow = Flows.ResidualFlow(2, layers: 2, hiddenFeatures: new[] { 16 }, seed: 4);
        using var exactFlow = Flows.ResidualFlow(2, layers: 2, hiddenFeatures: new[] { 16 }, logDet: ResidualLogDet.Exact, seed: 4);
        flow.eval();
        exactFlow.eval();
        using var generator = new Generator(9);
        var data = torch.randn(new long[] { 400, 2 }, generator: generator);
        using var validation = new ValidationSet(data.clone(), null);
        double first = validation.Loss(flow), second = validation.Loss(flow);
        Assert.Equal(first, second);
        Assert.Equal(-exactFlow.LogProb(data).mean().ToDouble(), first, 4);
        Assert.True(flow.LogProbIsEstimate, "the flow's own mode is left as it was.");
    }
}
