using System.Linq;
using NormalizingFlows.Targets;
using NormalizingFlows.Tests.Shared;
using NormalizingFlows.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Training;

/// <summary>A fit's small steps run on one thread and the caller's thread count is back afterwards; large steps and the
/// opt-out keep the caller's count.</summary>
[Collection(TrainingCollection.Name)]
public sealed class StepThreadsTests
{
    [Fact]
    public void Should_Measure_The_Largest_Layer_By_Its_Weight_Elements()
    {
        // RealNVP's two networks (shift and log-scale) sit side by side as [2, out, in] weights: both count.
        using var flow = Flows.RealNvp(2, 2, new[] { 64, 32 }, seed: 1);
        Assert.Equal(2 * 64 * 32, StepThreads.LargestLayerMultiplyAdds(flow, flow.parameters().ToArray()));
    }

    [Fact]
    public void Should_Use_One_Thread_For_Small_Steps_And_Give_The_Count_Back()
    {
        using var threads = TestThreads.Use(2);
        using var flow = Flows.RealNvp(2, 2, seed: 1);
        using (StepThreads.Enter(flow, 512, allowed: true)) Assert.Equal(1, torch.get_num_threads());
        Assert.Equal(2, torch.get_num_threads());
        // 8192 x 4096 rows put even this small network far above the bound: the caller's count stays.
        using (StepThreads.Enter(flow, 8192 * 4096, allowed: true)) Assert.Equal(2, torch.get_num_threads());
        using (StepThreads.Enter(flow, 512, allowed: false)) Assert.Equal(2, torch.get_num_threads());
    }

    [Fact]
    public void Should_Give_The_Callers_Thread_Count_Back_After_A_Fit()
    {
        using var threads = TestThreads.Use(2);
        using var flow = Flows.RealNvp(2, 2, seed: 1);
        var result = Fit.ToData(flow, new Banana(), new FitOptions { Iterations = 5, BatchSize = 64, Seed = 1 });
        Assert.Equal(5, result.Iterations);
        Assert.Equal(2, torch.get_num_threads());
    }
}
